"""Deterministic idempotency keys: built from content, never from time or randomness.

``src:{object}:{source_id}:{content_hash}`` names one captured version of a source record;
``dst:{operation}:{object}:{source_id}:{content_hash}`` names one intended Intercom write.
An outcome's key is its intent's key with a suffix, so each intent has at most one outcome
of each kind.

The digests in keys come from core.hashing (``record_hash`` for captures and
dispositions, ``content_hash`` for writes).
"""

from __future__ import annotations


def source_key(obj: str, source_id: str, digest: str) -> str:
    """Key of one captured version of a Hesk record."""
    return f"src:{obj}:{source_id}:{digest}"


def parse_source_key(key: str) -> tuple[str, str] | None:
    """The ``(object, source_id)`` a :func:`source_key` names; None for any other key.

    Object names and digests hold no colon; a source id may (``kb:2``), so it is what lies
    between the first colon after the object and the last one.
    """
    kind, _, rest = key.partition(":")
    obj, _, tail = rest.partition(":")
    source_id, _, digest = tail.rpartition(":")
    if kind != "src" or not obj or not source_id or not digest:
        return None
    return obj, source_id


def write_key(operation: str, obj: str, source_id: str, digest: str, attempt: int = 1) -> str:
    """Key of an intended Intercom write; a re-attempt after a resolved miss gets ``#n``."""
    base = f"dst:{operation}:{obj}:{source_id}:{digest}"
    return base if attempt == 1 else f"{base}#{attempt}"


def outcome_key(intent_key: str, outcome: str) -> str:
    """Key of the outcome (ok, failed, in-doubt, resolved, ...) of one write intent."""
    return f"{intent_key}|{outcome}"


def record_key(kind: str, obj: str, source_id: str, digest: str) -> str:
    """Key of a disposition (quarantined, skipped) of one version of a source record."""
    return f"{kind}:{obj}:{source_id}:{digest}"
