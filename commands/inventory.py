"""``inventory``: the hand-over files of what must be rebuilt by hand in Intercom."""

from __future__ import annotations

from pathlib import Path

from commands.workspace import client_for, read_workspace
from core.settings import Settings
from hesk.reader import HeskReader
from reports.inventory import build_inventory, write_inventory


def run_inventory(settings: Settings, out: Path) -> list[Path]:
    """Write the inventory files into ``out``; returns their paths."""
    with client_for(settings) as client:
        admins = [str(a.get("email") or "") for a in read_workspace(client).admins]
    with HeskReader.from_settings(settings) as reader:
        return write_inventory(build_inventory(reader, admins), out)
