"""Deleting one Intercom object this migration created, recorded as ``RollbackDeleted``.

Used by ``rollback`` (every created object) and by ``delta --apply-deletions`` (the objects
of records deleted in Hesk). A 404 means already gone and counts as done. An object found
not to be this migration's after all is kept, with a ``RollbackKept`` event saying why.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.resources import Resources
from intercom_api.errors import InDoubt, IntercomError, NotFound
from ledger.events import RollbackDeleted, RollbackKept
from mapping.people import carries_mark

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
    #: How an in-doubt lookup proved it ours ("" from versions that matched by name).
    why: str = ""

    def attribute_ref(self) -> dict[str, str]:
        """How the next generation finds this (archived) attribute's map entry."""
        return {
            "id": self.intercom_id,
            "object": self.object,
            "source_id": self.source_id,
            "op": self.op,
        }


#: Types an older version settled in-doubt creates of by name alone.
_NAME_MATCHED = ("article", "collection", "tag", "conversation_attribute")


def not_ours(res: Resources, target: Target) -> str:
    """Why an object the plan holds is not this migration's after all ("" when it is).

    Only objects an in-doubt lookup settled can be in question: a ``POST`` answered 200
    made its object.
    """
    if target.proof != "resolved":
        return ""
    if target.intercom_type == "contact":
        try:
            found = res.client.get_contact(target.intercom_id)
        except NotFound:
            return ""  # gone: the deletion answers 404 and counts as done
        external = str(found.get("external_id") or "")
        if not carries_mark(external, res.mark()):
            return (
                f"an in-doubt create was settled on this contact, but its external_id "
                f"{external or '(none)'!r} is not this migration's: a contact that "
                "existed before, never deleted"
            )
        return ""
    if target.intercom_type in _NAME_MATCHED and not target.why:
        return (
            "an in-doubt create was settled on it by name alone (an older version): "
            "not proven this migration's, so never deleted; delete it by hand if it is"
        )
    return ""


def delete_created(res: Resources, run: str, target: Target) -> str:
    """Delete one object this migration created and record it.

    Returns deleted, already_gone, kept… (not ours: recorded as ``RollbackKept`` with the
    reason), or why it could not.
    """
    client = res.client
    reason = not_ours(res, target)
    if reason:
        res.ledger.append_one(
            RollbackKept(
                object=target.object,
                source_id=target.source_id,
                run=run,
                intent_key=target.intent_key,
                intercom_id=target.intercom_id,
                intercom_type=target.intercom_type,
                reason=reason,
            )
        )
        return f"kept: {reason}"
    delete = {
        "ticket": client.delete_ticket,
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
            object=target.object,
            source_id=target.source_id,
            run=run,
            intent_key=target.intent_key,
            intercom_id=target.intercom_id,
            intercom_type=target.intercom_type,
            already_gone=gone,
        )
    )
    return "already_gone" if gone else "deleted"
