"""Hesk's attachments folder, path-guarded: no ``saved_name`` can escape it.

A name is refused (:class:`~hesk.errors.UnsafeAttachmentPath`) when it is empty, absolute,
contains a path separator, ``..`` or NUL, or resolves (through symlinks) outside the folder.
A missing file raises :class:`~hesk.errors.AttachmentMissing`; a size that differs from the
row raises :class:`~hesk.errors.AttachmentSizeMismatch`. :meth:`AttachmentFolder.check`
returns the same verdicts as a status string instead, for scans that must not stop.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from hesk.errors import AttachmentMissing, AttachmentSizeMismatch, UnsafeAttachmentPath

OK = "ok"
MISSING = "missing"
UNSAFE = "unsafe_path"
SIZE_MISMATCH = "size_mismatch"
UNCHECKED = "unchecked"


class AttachmentFolder:
    """Read-only access to files in Hesk's attachments folder, by ``saved_name``."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()

    def path_for(self, saved_name: str) -> Path:
        """The file's real path inside the folder; raises UnsafeAttachmentPath otherwise."""
        name = saved_name or ""
        if (
            not name.strip()
            or "\x00" in name
            or "/" in name
            or "\\" in name
            or name in (".", "..")
            or Path(name).is_absolute()
        ):
            raise UnsafeAttachmentPath(f"attachment name {name[:80]!r} is not a plain file name")
        resolved = (self.root / name).resolve()
        if not resolved.is_relative_to(self.root) or resolved == self.root:
            raise UnsafeAttachmentPath(
                f"attachment {name[:80]!r} resolves outside the attachments folder"
            )
        return resolved

    def check(self, saved_name: str, expected_size: int | None = None) -> tuple[str, int | None]:
        """``(status, size_on_disk)``: status is ok, missing, unsafe_path or size_mismatch."""
        try:
            path = self.path_for(saved_name)
        except UnsafeAttachmentPath:
            return UNSAFE, None
        if not path.is_file():
            return MISSING, None
        size = path.stat().st_size
        if expected_size is not None and size != expected_size:
            return SIZE_MISMATCH, size
        return OK, size

    def open(self, saved_name: str, expected_size: int | None = None) -> BinaryIO:
        """Open the file for reading (binary), after the path guard and the size check."""
        path = self.path_for(saved_name)
        if not path.is_file():
            raise AttachmentMissing(f"attachment file {saved_name[:80]!r} is missing")
        handle = path.open("rb")
        if expected_size is not None:
            size = path.stat().st_size
            if size != expected_size:
                handle.close()
                raise AttachmentSizeMismatch(
                    f"attachment {saved_name[:80]!r} has {size} bytes, its row says {expected_size}"
                )
        return handle

    def read_bytes(self, saved_name: str, expected_size: int | None = None) -> bytes:
        """The whole file's content (guarded and size-checked like :meth:`open`)."""
        with self.open(saved_name, expected_size) as handle:
            return handle.read()


def parse_attachment_refs(value: str | None) -> list[tuple[int, str]]:
    """Parse an ``attachments`` column (``ATTID#name,ATTID#name,``) into (id, name) pairs.

    Malformed items (no ``#`` or a non-numeric id) are skipped; see
    :func:`malformed_attachment_items` to report them.
    """
    pairs: list[tuple[int, str]] = []
    for item in (value or "").split(","):
        att_id, sep, name = item.strip().partition("#")
        if sep and att_id.isdigit():
            pairs.append((int(att_id), name))
    return pairs


def malformed_attachment_items(value: str | None) -> list[str]:
    """Items of an ``attachments`` column that are not ``ATTID#name``."""
    bad = []
    for item in (value or "").split(","):
        item = item.strip()
        if item:
            att_id, sep, _name = item.partition("#")
            if not (sep and att_id.isdigit()):
                bad.append(item)
    return bad
