"""A local Intercom (API 2.16): same paths and payloads, rate limits, injected faults.

Entry points: :func:`simulator.app.create_app` (the ASGI app), :func:`simulator.server.serve`
(uvicorn) and :func:`simulator.testing.running_simulator` (a server in a thread for tests).
"""
