"""Hesk text that looks like the engine's own placeholder reaches Intercom as written.

A step's path names its unit's Intercom object with ``{unit_id}`` until the object exists.
A reply, a first message or a subject holding that same text is a customer's words: it
must arrive verbatim, never turned into a conversation id.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from mapping.steps import UNIT_ID
from simulator.testing import SimulatorHandle
from tests.helpers.hesk import HeskSource, drop_source, make_source
from tests.helpers.migration import migrate, prepare

WORDS = f"see {UNIT_ID} in the template"


@pytest.fixture(scope="module")
def placeholder_source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HeskSource]:
    """A small help desk whose subjects, first messages and replies hold ``{unit_id}``."""
    source = make_source(tmp_path_factory, "placeholder", tickets=4, seed=7)
    database = source.url.rsplit("/", 1)[1]
    conn = pymysql.connect(host="127.0.0.1", user="root", database=database, autocommit=True)
    with conn.cursor() as cur:
        cur.execute("UPDATE hesk_tickets SET subject = CONCAT(subject, ' ', %s)", (WORDS,))
        for table in ("hesk_tickets", "hesk_replies"):
            cur.execute(f"SHOW COLUMNS FROM {table} LIKE 'message%%'")
            for column, *_rest in cur.fetchall():  # message, and message_html (Hesk 3.5+)
                cur.execute(f"UPDATE {table} SET {column} = CONCAT({column}, ' ', %s)", (WORDS,))
        cur.execute("SELECT COUNT(*) FROM hesk_replies")
        (replies,) = cur.fetchone()
    conn.close()
    assert replies > 0
    yield source
    drop_source(source)


def test_text_like_the_placeholder_arrives_verbatim(
    sim: SimulatorHandle, placeholder_source: HeskSource, ledger_url: str, tmp_path: Path
) -> None:
    settings = prepare(sim, placeholder_source, ledger_url, tmp_path)
    migrate(settings, tmp_path, workers=1, threads=2)
    conversations = sim.dump()["conversations"]
    assert conversations
    for conv in conversations:
        assert WORDS in conv["title"], conv["title"]
        assert WORDS in conv["source"]["body"], conv["source"]["body"]
    bodies = [
        p.get("body") or ""
        for conv in conversations
        for p in conv["conversation_parts"]["conversation_parts"]
    ]
    quoted = [b for b in bodies if "in the template" in b]
    assert quoted, "no reply carried the words"
    assert all(WORDS in b for b in quoted), [b for b in quoted if WORDS not in b][:3]
