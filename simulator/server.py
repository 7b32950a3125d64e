"""Run the simulator with uvicorn: ``serve(host, port, token=..., ...)``."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from .app import DEFAULT_RATE_LIMIT, create_app
from .faults import FaultConfig


def uvicorn_config(
    host: str,
    port: int,
    *,
    token: str,
    rate_limit: int = DEFAULT_RATE_LIMIT,
    faults: FaultConfig | None = None,
    state_file: Path | None = None,
    validate: bool = True,
    log_level: str = "warning",
) -> uvicorn.Config:
    """The uvicorn config serving a fresh simulator app (one process, one event loop)."""
    app = create_app(
        token=token, rate_limit=rate_limit, faults=faults, state_file=state_file,
        validate=validate,
    )
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=30,
    )


def serve(
    host: str = "127.0.0.1",
    port: int = 8088,
    *,
    token: str,
    rate_limit: int = DEFAULT_RATE_LIMIT,
    faults: FaultConfig | None = None,
    state_file: Path | None = None,
    validate: bool = True,
    log_level: str = "warning",
) -> None:
    """Serve the simulator until interrupted (state saved on shutdown with ``state_file``)."""
    config = uvicorn_config(
        host, port, token=token, rate_limit=rate_limit, faults=faults, state_file=state_file,
        validate=validate, log_level=log_level,
    )
    uvicorn.Server(config).run()


def main(argv: list[str] | None = None) -> None:
    """``python -m simulator.server --token T [--port P] ...`` (the CLI reads the token
    from ``H2I_INTERCOM_TOKEN`` instead; this entry point is for benchmarks and scripts)."""
    import argparse
    import os

    parser = argparse.ArgumentParser(description="Run the Intercom simulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--rate-limit", type=int, default=DEFAULT_RATE_LIMIT)
    parser.add_argument("--faults", default="")
    parser.add_argument("--state", type=Path, default=None)
    parser.add_argument("--no-validate", action="store_true")
    args = parser.parse_args(argv)
    token = os.environ.get("H2I_INTERCOM_TOKEN", "")
    if not token:
        raise SystemExit("H2I_INTERCOM_TOKEN is not set: export the token the simulator accepts")
    serve(
        args.host, args.port, token=token, rate_limit=args.rate_limit,
        faults=FaultConfig.parse(args.faults), state_file=args.state,
        validate=not args.no_validate,
    )


if __name__ == "__main__":
    main()
