"""Attachments: which files can be sent, why the others cannot, and chunks of 10 per part."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from hesk.records import Attachment
from mapping.common import disposition
from mapping.steps import Disposition, FileRef

#: Intercom takes at most 10 ``attachment_files`` per part (API_NOTES §5.8).
FILES_PER_PART = 10

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


def file_ref(att: Attachment) -> FileRef:
    """The FileRef of an attachment record."""
    return FileRef(
        attachment_id=att.source_id,
        saved_name=att.saved_name,
        real_name=att.real_name,
        size=att.file_size if att.file_size is not None else att.size,
        content_type=content_type(att.real_name),
        content_hash=att.content_hash,
    )


def problem(att: Attachment, max_bytes: int) -> str:
    """Why an attachment cannot be sent (empty if it can)."""
    if att.file_status != "ok":
        return _STATUS_REASONS.get(att.file_status, f"attachment file status {att.file_status}")
    size = att.file_size if att.file_size is not None else att.size
    if size > max_bytes:
        return f"attachment of {size} bytes is larger than max_attachment_bytes ({max_bytes})"
    return ""


@dataclass
class SortedFiles:
    """A ticket's attachments by the message that lists them, and those that cannot go."""

    by_parent: dict[tuple[str, int], list[Attachment]] = field(default_factory=dict)
    dispositions: list[Disposition] = field(default_factory=list)


def sort_files(
    attachments: Sequence[Attachment], parents: set[tuple[str, int]], max_bytes: int
) -> SortedFiles:
    """Attachments grouped by ``(parent_object, parent_id)``; bad or unlisted ones settled."""
    out = SortedFiles()
    for att in sorted(attachments, key=lambda a: a.att_id):
        parent = (att.parent_object or "", att.parent_id if att.parent_id is not None else -1)
        reason = problem(att, max_bytes)
        if reason:
            out.dispositions.append(disposition(att, "quarantined", reason))
        elif parent not in parents:
            out.dispositions.append(disposition(
                att, "skipped", "listed by no message of the ticket (Hesk shows it nowhere)"
            ))  # fmt: skip
        else:
            out.by_parent.setdefault(parent, []).append(att)
    return out


def chunks(files: Sequence[Attachment]) -> list[list[Attachment]]:
    """Files in groups of at most :data:`FILES_PER_PART` (one group, maybe empty)."""
    groups = [list(files[i : i + FILES_PER_PART]) for i in range(0, len(files), FILES_PER_PART)]
    return groups or [[]]
