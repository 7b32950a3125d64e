"""Attachment rows (``hesk_attachments``, then ``hesk_kb_attachments``) as records.

Each batch finds the owner of every file: the ticket by trackid, then the ticket, reply or
note whose ``attachments`` column lists the att_id; and checks the file on disk.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from hesk.attachments import MISSING, OK, SIZE_MISMATCH, UNCHECKED, UNSAFE, parse_attachment_refs
from hesk.reader_base import ReaderBase
from hesk.records import Attachment

_FINDING = {
    MISSING: "missing_attachment_file",
    UNSAFE: "unsafe_attachment_path",
    SIZE_MISMATCH: "attachment_size_mismatch",
}


def _file_status(r: ReaderBase, source_id: str, saved: str, size: int) -> tuple[str, int | None]:
    if r.folder is None:
        return UNCHECKED, None
    status, actual = r.folder.check(saved, size)
    if status != OK:
        r.add_finding(_FINDING[status], "attachment", source_id, f"saved_name {saved[:80]!r}")
    return status, actual


def _owners(
    r: ReaderBase, trackids: list[str]
) -> tuple[dict[str, int], dict[int, tuple[str, int]]]:
    """trackid -> ticket id, and att_id -> (parent object, parent id)."""
    if not trackids:
        return {}, {}
    marks = ",".join(["%s"] * len(trackids))
    tickets = r.db.query(
        f"SELECT id, trackid, attachments FROM {r.db.t('tickets')} WHERE trackid IN ({marks})",
        trackids,
    )
    by_track = {t["trackid"]: int(t["id"]) for t in tickets}
    owners: dict[int, tuple[str, int]] = {}
    for t in tickets:
        for att_id, _ in parse_attachment_refs(t["attachments"]):
            owners.setdefault(att_id, ("ticket", int(t["id"])))
    ids = sorted(set(by_track.values()))
    if ids:
        imarks = ",".join(["%s"] * len(ids))
        for table, fk, obj in (("replies", "replyto", "reply"), ("notes", "ticket", "note")):
            for row in r.db.query(
                f"SELECT id, attachments FROM {r.db.t(table)} WHERE {fk} IN ({imarks}) "
                f"AND attachments <> ''",
                ids,
            ):
                for att_id, _ in parse_attachment_refs(row["attachments"]):
                    owners.setdefault(att_id, (obj, int(row["id"])))
    return by_track, owners


def iter_attachments(r: ReaderBase, since_id: int | None = None) -> Iterator[Attachment]:
    """Every ticket/reply/note attachment (by att_id), then every KB attachment."""
    for rows in r.db.keyset("attachments", "*", key="att_id", after=since_id, batch=r.batch_size):
        by_track, owners = _owners(r, sorted({x["ticket_id"] for x in rows}))
        for row in rows:
            att_id = int(row["att_id"])
            sid = str(att_id)
            r.note_legacy(row, "attachment", sid)
            tid = by_track.get(row["ticket_id"])
            parent = owners.get(att_id)
            if tid is None:
                r.add_finding(
                    "orphan_attachment",
                    "attachment",
                    sid,
                    f"trackid {row['ticket_id']!r} has no ticket",
                )
            status, actual = _file_status(r, sid, row["saved_name"], int(row["size"]))
            yield Attachment(
                source_id=sid,
                att_id=att_id,
                kind="ticket",
                trackid=row["ticket_id"],
                ticket_id=tid,
                parent_object=parent[0] if parent else None,
                parent_id=parent[1] if parent else None,
                saved_name=row["saved_name"],
                real_name=row["real_name"],
                size=int(row["size"]),
                staff_only=str(row.get("type")) == "1",
                file_status=status,
                file_size=actual,
            )
    if not r.db.has_table("kb_attachments"):
        return
    kb_owner = _kb_owners(r)
    for rows in r.db.keyset(
        "kb_attachments", "*", key="att_id", after=since_id, batch=r.batch_size
    ):
        for row in rows:
            att_id = int(row["att_id"])
            sid = f"kb:{att_id}"
            status, actual = _file_status(r, sid, row["saved_name"], int(row["size"]))
            owner = kb_owner.get(att_id)
            yield Attachment(
                source_id=sid,
                att_id=att_id,
                kind="kb",
                trackid=None,
                ticket_id=None,
                parent_object="kb_article" if owner else None,
                parent_id=owner,
                saved_name=row["saved_name"],
                real_name=row["real_name"],
                size=int(row["size"]),
                staff_only=False,
                file_status=status,
                file_size=actual,
            )


def _kb_owners(r: ReaderBase) -> dict[int, int]:
    owners: dict[int, int] = {}
    rows: list[dict[str, Any]] = r.db.query(
        f"SELECT id, attachments FROM {r.db.t('kb_articles')} WHERE attachments <> ''"
    )
    for row in rows:
        for att_id, _ in parse_attachment_refs(row["attachments"]):
            owners.setdefault(att_id, int(row["id"]))
    return owners
