"""``--state FILE``: the workspace as JSON, loaded at start and saved atomically."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from .state import Workspace

_TABLES = (
    "admins",
    "teams",
    "contacts",
    "notes",
    "conversations",
    "parts",
    "data_attributes",
    "conversation_attributes",
    "tags",
    "help_centers",
    "collections",
    "articles",
    "tickets",
    "ticket_parts",
    "ticket_types",
    "ticket_states",
)
FORMAT = 1


def snapshot(ws: Workspace) -> bytes:
    """The workspace serialised (call on the event loop thread: it reads live state)."""
    data: dict[str, Any] = {
        "format": FORMAT,
        "next_number": ws.next_number,
        "owner_id": ws.owner_id,
    }
    for name in _TABLES:
        data[name] = getattr(ws, name)
    data["blobs"] = {k: base64.b64encode(v).decode() for k, v in ws.blobs.items()}
    return json.dumps(data, separators=(",", ":")).encode()


def write_atomic(path: Path, payload: bytes) -> None:
    """Write ``payload`` to ``path`` via a temporary file and ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> Workspace | None:
    """The workspace saved in ``path``, or None when the file does not exist."""
    if not path.exists():
        return None
    data = json.loads(path.read_bytes())
    if data.get("format") != FORMAT:
        raise ValueError(f"{path} is not a simulator state file (format {data.get('format')})")
    ws = Workspace(next_number=int(data["next_number"]), owner_id=str(data["owner_id"]))
    for name in _TABLES:
        setattr(ws, name, data.get(name, {}))
    ws.blobs = {k: base64.b64decode(v) for k, v in data.get("blobs", {}).items()}
    if not ws.ticket_states:  # a state file written before tickets existed
        from .tickets import add_default_states

        add_default_states(ws)
    ws.reindex()
    return ws
