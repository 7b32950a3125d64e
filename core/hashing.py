"""Every hash the migration stores or compares, stated once (pure: no I/O).

Each digest is a SHA-256 of UTF-8 text cut to a fixed number of hex digits. The lengths
are part of what is stored: idempotency keys, contacts' ``external_id`` and token
fingerprints are recorded in ledgers and in Intercom, and an existing ledger must resume,
so none of them may ever change.

===================  ======  ==========================================================
function             length  what it names
===================  ======  ==========================================================
``record_hash``      64 hex  one version of a Hesk record (``src:`` keys, dispositions)
``content_hash``     16 hex  a write's identity (``dst:`` keys), the map, a verify run
``email_digest``     24 hex  a customer's ``external_id`` (``hesk:customer:…``)
``fingerprint``       8 hex  an Intercom token, named without showing it
``text_hash``        64 hex  a normalised message body compared after a read-back
===================  ======  ==========================================================
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

#: Hex digits kept of each digest (see the table above). Never change one.
RECORD_HASH_HEX = 64
CONTENT_HASH_HEX = 16
EMAIL_DIGEST_HEX = 24
FINGERPRINT_HEX = 8


def canonical_json(value: Any) -> str:
    """The one JSON text of a value: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_hex(text: str, length: int = RECORD_HASH_HEX) -> str:
    """The first ``length`` hex digits of the SHA-256 of ``text`` (UTF-8)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]


def record_hash(payload: Any) -> str:
    """The hash of one version of a source record: full SHA-256 of its canonical JSON."""
    return sha256_hex(canonical_json(payload), RECORD_HASH_HEX)


def content_hash(value: Any) -> str:
    """A short, stable hash of a JSON-able value (first 16 hex of its canonical SHA-256)."""
    return sha256_hex(canonical_json(value), CONTENT_HASH_HEX)


def email_digest(email: str) -> str:
    """The 24 hex naming a case-folded e-mail without revealing it."""
    return sha256_hex(email.casefold(), EMAIL_DIGEST_HEX)


def fingerprint(secret: str) -> str:
    """A short, stable name of a secret that does not reveal it (8 hex digits)."""
    return sha256_hex(secret, FINGERPRINT_HEX)


def text_hash(text: str) -> str:
    """The full SHA-256 of a text (callers normalise it first)."""
    return sha256_hex(text, RECORD_HASH_HEX)
