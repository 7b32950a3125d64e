"""What ``migrate`` (and delta, cutover, which run the same phases) was asked to do."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class MigrateOptions:
    """What ``migrate`` was asked to do."""

    sample: int | None = None
    only: str | None = None
    workers: int = 2
    threads: int = 8
    stall_seconds: float = 20.0
    max_stalls: int = 6
    log_dir: Path = Path(".h2i/logs")
