"""Attachments: which files can be sent, why the others cannot, and how they fill parts.

A part carries at most :data:`FILES_PER_PART` files and at most ``max_request_bytes`` of
request body, counted as the client sends it: each file's bytes as base64 (4 characters per
3 bytes) plus its JSON entry and its name in the part's label, and the part's own body.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.intercom_limits import FILES_PER_PART
from hesk.records import Attachment
from mapping.common import disposition
from mapping.steps import Disposition, FileRef
from mapping.text import escape

#: Bytes a part's body may take besides its files and the text it carries: keys, ids,
#: time, ``skip_notifications`` and the "Attachments (n/m): " label (names count per file).
PART_OVERHEAD = 1024

_STATUS_REASONS = {
    "missing": "attachment file missing on disk",
    "unsafe_path": "attachment name escapes the attachments folder (unsafe path): not read",
    "size_mismatch": "attachment file size differs from the size Hesk recorded",
    "unchecked": "attachment not checked: no attachments folder configured "
    "(set H2I_HESK_ATTACHMENTS_DIR and capture again)",
}
#: A small, fixed extension -> content type table (``mimetypes`` reads system files).
CONTENT_TYPES = {
    "txt": "text/plain", "csv": "text/csv", "log": "text/plain", "htm": "text/html",
    "html": "text/html", "xml": "application/xml", "json": "application/json",
    "pdf": "application/pdf", "zip": "application/zip", "gz": "application/gzip",
    "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif",
    "webp": "image/webp", "bmp": "image/bmp", "svg": "image/svg+xml", "tif": "image/tiff",
    "tiff": "image/tiff", "doc": "application/msword", "rtf": "application/rtf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text", "mp3": "audio/mpeg",
    "mp4": "video/mp4", "mov": "video/quicktime", "eml": "message/rfc822",
}  # fmt: skip


def content_type(name: str) -> str:
    """The content type of a file name by its extension (octet-stream if unknown)."""
    ext = name.rsplit(".", 1)[-1].casefold() if "." in name else ""
    return CONTENT_TYPES.get(ext, "application/octet-stream")


def _size(att: Attachment) -> int:
    return att.file_size if att.file_size is not None else att.size


def file_ref(att: Attachment) -> FileRef:
    """The FileRef of an attachment record."""
    return FileRef(
        attachment_id=att.source_id,
        saved_name=att.saved_name,
        real_name=att.real_name,
        size=_size(att),
        content_type=content_type(att.real_name),
        content_hash=att.content_hash,
    )


def json_size(value: Any) -> int:
    """Bytes of ``value`` as the client sends it (compact JSON, UTF-8)."""
    return len(json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode())


def encoded_size(size: int) -> int:
    """Length of ``size`` bytes as base64 (4 characters per 3 bytes, padded)."""
    return 4 * ((size + 2) // 3)


def request_cost(att: Attachment) -> int:
    """Bytes one file adds to a part's request body: its ``attachment_files`` entry (name,
    content type, data as base64), the comma before it, and its name in the part's label."""
    entry = {"name": att.real_name, "content_type": content_type(att.real_name), "data": ""}
    return encoded_size(_size(att)) + json_size(entry) + 1 + json_size(escape(att.real_name))


def problem(att: Attachment, max_bytes: int, max_request: int) -> str:
    """Why an attachment cannot be sent (empty if it can)."""
    if att.file_status != "ok":
        return _STATUS_REASONS.get(att.file_status, f"attachment file status {att.file_status}")
    size = _size(att)
    if size > max_bytes:
        return f"attachment of {size} bytes is larger than max_attachment_bytes ({max_bytes})"
    needed = request_cost(att) + PART_OVERHEAD
    if needed > max_request:
        return (
            f"attachment of {size} bytes needs {needed} bytes of request body (base64), more "
            f"than Intercom accepts in one request (max_request_bytes: {max_request})"
        )
    return ""


@dataclass
class SortedFiles:
    """A ticket's attachments by the message that lists them, and those that cannot go."""

    by_parent: dict[tuple[str, int], list[Attachment]] = field(default_factory=dict)
    dispositions: list[Disposition] = field(default_factory=list)


def sort_files(
    attachments: Sequence[Attachment],
    parents: set[tuple[str, int]],
    max_bytes: int,
    max_request: int,
) -> SortedFiles:
    """Attachments grouped by ``(parent_object, parent_id)``; bad or unlisted ones settled.

    A file that cannot fit a request even alone (``max_request``) is quarantined here, so
    every file left fits a part of its own.
    """
    out = SortedFiles()
    for att in sorted(attachments, key=lambda a: a.att_id):
        parent = (att.parent_object or "", att.parent_id if att.parent_id is not None else -1)
        reason = problem(att, max_bytes, max_request)
        if reason:
            out.dispositions.append(disposition(att, "quarantined", reason))
        elif parent not in parents:
            out.dispositions.append(disposition(
                att, "skipped", "listed by no message of the ticket (Hesk shows it nowhere)"
            ))  # fmt: skip
        else:
            out.by_parent.setdefault(parent, []).append(att)
    return out


def parts(
    files: Sequence[Attachment], max_request: int, first_used: int | None = None
) -> list[list[Attachment]]:
    """Files split into parts, in order: each part at most :data:`FILES_PER_PART` files
    and ``max_request`` bytes of request body (:data:`PART_OVERHEAD` included).

    ``first_used``: bytes the first part already holds (a message's body); that part may
    then carry no file at all. None: every part holds files only. Always at least one
    group (maybe empty). A file too big even alone still gets a part of its own
    (:func:`sort_files` quarantines those before).
    """
    groups: list[list[Attachment]] = [[]]
    used = PART_OVERHEAD + (first_used or 0)
    holds_message = first_used is not None
    for att in files:
        cost = request_cost(att)
        full = len(groups[-1]) >= FILES_PER_PART or used + cost > max_request
        if full and (groups[-1] or holds_message):
            groups.append([])
            used, holds_message = PART_OVERHEAD, False
        groups[-1].append(att)
        used += cost
    return groups
