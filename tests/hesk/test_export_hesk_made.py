"""Export files made by Hesk 3.7 itself, against the same database rebuilt here.

``data/`` holds two files Hesk wrote with its own ``hesk_export_to_XML`` (Hesk 3.7.x
under PHP 8.2, timezone Europe/Berlin) from the demo help desk
``generate(tickets=12, seed=5, timezone="Europe/Berlin")``:

* ``…_171269.zip``: English, history and replies ticked;
* ``…_583093.zip``: German (the 3.6 language pack: Hesk 3.7 writes empty labels for the
  two columns that pack lacks), neither box ticked.

The demo generator is deterministic, so the same database is rebuilt here; the writer
must reproduce each file byte for byte, and the reader must read each as the database
reader reads the database.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pymysql
import pytest

from hesk.demo_data import generate
from hesk.export_reader import ExportReader
from hesk.export_writer import ExportOptions, write_export
from hesk.reader import HeskReader
from tests.helpers.hesk_export import projection, raw_messages

DATA = Path(__file__).with_name("data")
BERLIN = "Europe/Berlin"
FILES = {
    "hesk_export_2026-11-30_19-57-15_171269.zip": {
        "history": True,
        "replies": True,
        "language": "en",
    },
    "hesk_export_2026-11-30_19-57-16_583093.zip": {
        "history": False,
        "replies": False,
        "language": "de",
    },
}


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The help desk the files were exported from."""
    name = f"h2i_test_hesk_{os.getpid()}_made"
    url = f"mysql+pymysql://root@127.0.0.1:3306/{name}"
    generate(url, tmp_path_factory.mktemp("att_made"), tickets=12, seed=5, timezone=BERLIN)
    yield url
    conn = pymysql.connect(host="127.0.0.1", user="root")
    with conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
    conn.close()


def _xml(path: Path) -> tuple[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        (member,) = zf.namelist()
        return member, zf.read(member)


@pytest.mark.parametrize("file", sorted(FILES))
def test_the_writer_writes_what_hesk_wrote(file, desk, tmp_path) -> None:
    stamp, digits = Path(file).stem[len("hesk_export_") :].rsplit("_", 1)
    made_at = datetime.strptime(stamp, "%Y-%m-%d_%H-%M-%S").replace(tzinfo=ZoneInfo(BERLIN))
    ours = write_export(
        desk,
        tmp_path,
        ExportOptions(
            timezone=BERLIN,
            made_at=made_at,
            random_digits=int(digits),
            email_view_ticket=False,
            **FILES[file],
        ),
    )
    assert ours.name == file
    hesk_member, hesk_bytes = _xml(DATA / file)
    our_member, our_bytes = _xml(ours)
    assert our_member == hesk_member
    assert our_bytes == hesk_bytes
    assert b"</Cell>\r\n" in hesk_bytes and b"</Cell>\n" in hesk_bytes  # CRLF, LF mixed


@pytest.mark.parametrize("file", sorted(FILES))
def test_the_reader_reads_hesks_file_as_the_database(file, desk) -> None:
    full = FILES[file]["replies"]
    messages = {"tickets": raw_messages(desk, "tickets"), "replies": raw_messages(desk, "replies")}
    with HeskReader(desk, timezone=BERLIN) as db:
        expected = projection(db, replies=True, history=True, messages=messages)
    with ExportReader(DATA / file, timezone=BERLIN) as reader:
        assert reader.layout.language == FILES[file]["language"]
        seen = projection(reader, replies=full, history=full)
    expected = {k: v if full else (*v[:-2], (), ()) for k, v in expected.items()}
    assert seen == {k: v for k, v in expected.items() if k in seen}
    assert len(seen) >= len(expected) - 1  # at most the zero-date ticket is a broken row
