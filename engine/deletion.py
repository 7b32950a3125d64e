"""Deleting one Intercom object this migration created, recorded as ``RollbackDeleted``.

Used by ``rollback`` (every created object) and by ``delta --apply-deletions`` (the objects
of records deleted in Hesk). A 404 means already gone and counts as done.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.resources import Resources
from intercom_api.errors import InDoubt, IntercomError, NotFound
from ledger.events import RollbackDeleted

_DELETE_TRIES = 3


@dataclass(frozen=True)
class Target:
    """One created object still to delete."""

    intent_key: str
    object: str
    source_id: str
    intercom_id: str
    intercom_type: str
    proof: str
    op: str = ""

    def attribute_ref(self) -> dict[str, str]:
        """How the next generation finds this (archived) attribute's map entry."""
        return {"id": self.intercom_id, "object": self.object, "source_id": self.source_id,
                "op": self.op}  # fmt: skip


def delete_created(res: Resources, run: str, target: Target) -> str:
    """Delete one object this migration created and record it.

    Returns deleted, already_gone, kept… (not ours to delete), or why it could not.
    """
    client = res.client
    if target.intercom_type == "contact" and target.proof == "resolved":
        # An in-doubt create settled by lookup may have found someone else's contact by
        # e-mail: delete it only if it carries this migration's external id.
        try:
            found = client.get_contact(target.intercom_id)
        except NotFound:
            found = None
        if found is not None and not str(found.get("external_id") or "").startswith("hesk:"):
            return "kept: matched by e-mail to a contact that existed before"
    delete = {
        "conversation": client.delete_conversation,
        "article": client.delete_article,
        "collection": client.delete_collection,
        "contact": client.delete_contact,
        "tag": client.delete_tag,
        "conversation_attribute": client.delete_conversation_attribute,
    }[target.intercom_type]
    gone = False
    for attempt in range(1, _DELETE_TRIES + 1):
        try:
            delete(target.intercom_id)
            break
        except NotFound:
            gone = True
            break
        except InDoubt:
            if attempt == _DELETE_TRIES:
                return "the deletion stayed in doubt (timeouts); run rollback again"
        except IntercomError as err:
            return f"Intercom refused the deletion: {err.message}"
    res.ledger.append_one(
        RollbackDeleted(
            object=target.object, source_id=target.source_id, run=run,
            intent_key=target.intent_key, intercom_id=target.intercom_id,
            intercom_type=target.intercom_type, already_gone=gone,
        )
    )  # fmt: skip
    return "already_gone" if gone else "deleted"
