"""Run the simulator with uvicorn: ``serve(host, port, SimulatorOptions(token=...))``."""

from __future__ import annotations

import errno
import socket
from pathlib import Path

import uvicorn

from core.errors import H2IError
from core.intercom_limits import MAX_REQUEST_BYTES

from .app import DEFAULT_RATE_LIMIT, DEFAULT_WORKSPACE_RATE_LIMIT, SimulatorOptions, create_app
from .faults import FaultConfig


class PortInUse(H2IError):
    """The address the simulator should listen on is taken (exit 2, one line)."""


def listen(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (bound here so a taken port is one clear error)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise PortInUse(
                f"port {port} on {host} is already taken (another simulator?): stop what "
                f"listens there or pick a free port with --port",
                hint="",
            ) from exc
        raise PortInUse(
            f"cannot listen on {host}:{port} ({exc.strerror}): check --host and --port", hint=""
        ) from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def uvicorn_config(
    host: str, port: int, options: SimulatorOptions, *, log_level: str = "warning"
) -> uvicorn.Config:
    """The uvicorn config serving a fresh simulator app (one process, one event loop)."""
    return uvicorn.Config(
        create_app(options, host),
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=2,
        timeout_keep_alive=30,
    )


def serve(
    host: str,
    port: int,
    options: SimulatorOptions,
    *,
    log_level: str = "warning",
    sock: socket.socket | None = None,
) -> None:
    """Serve the simulator until interrupted (state saved on shutdown with a state file).

    ``sock``: a socket from :func:`listen` (else one is bound here); :class:`PortInUse`
    when the port is taken.
    """
    sock = sock or listen(host, port)
    uvicorn.Server(uvicorn_config(host, port, options, log_level=log_level)).run(sockets=[sock])


def main(argv: list[str] | None = None) -> None:
    """``python -m simulator.server [--port P] ...`` with the token in ``H2I_INTERCOM_TOKEN``
    (for benchmarks and scripts; ``hesk2intercom simulator`` is the same server)."""
    import argparse
    import os
    import sys

    parser = argparse.ArgumentParser(description="Run the Intercom simulator.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--rate-limit", type=int, default=DEFAULT_RATE_LIMIT)
    parser.add_argument("--workspace-rate-limit", type=int, default=DEFAULT_WORKSPACE_RATE_LIMIT)
    parser.add_argument("--tokens", default="", help="A,B,C (default H2I_INTERCOM_TOKEN)")
    parser.add_argument("--faults", default="")
    parser.add_argument("--state", type=Path, default=None)
    parser.add_argument("--no-validate", action="store_true")
    parser.add_argument("--max-body-bytes", type=int, default=MAX_REQUEST_BYTES)
    parser.add_argument("--allow-host", action="append", default=[])
    args = parser.parse_args(argv)
    token = args.tokens or os.environ.get("H2I_INTERCOM_TOKEN", "")
    if not token:
        raise SystemExit("H2I_INTERCOM_TOKEN is not set: export the token the simulator accepts")
    try:
        serve(
            args.host,
            args.port,
            SimulatorOptions(
                token=token,
                rate_limit=args.rate_limit,
                workspace_rate_limit=args.workspace_rate_limit,
                faults=FaultConfig.parse(args.faults),
                state_file=args.state,
                validate=not args.no_validate,
                max_body_bytes=args.max_body_bytes,
                allowed_hosts=tuple(args.allow_host),
            ),
        )
    except PortInUse as err:
        print(f"error: {err.message}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
