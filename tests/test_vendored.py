"""Files vendored from outside the repository are exactly what ``vendor/vendored.json``
records: each one's sha256, and for a verbatim copy, the sha256 of its original."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RECORD = REPO / "vendor" / "vendored.json"
NOTES = REPO / "vendor" / "VENDORED.md"


def _entries() -> list[dict]:
    return json.loads(RECORD.read_text(encoding="utf-8"))["files"]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_vendored_file_has_its_recorded_sha256() -> None:
    entries = _entries()
    assert {e["kind"] for e in entries} <= {"verbatim", "derived"}
    for entry in entries:
        assert _sha256(REPO / entry["path"]) == entry["sha256"], (
            f"{entry['path']} changed: remake it as vendor/VENDORED.md says, then record "
            f"its sha256 in vendor/vendored.json"
        )


def test_verbatim_copies_are_their_originals() -> None:
    verbatim = [e for e in _entries() if e["kind"] == "verbatim"]
    assert {e["path"] for e in verbatim} == {
        "hesk/schema.sql",
        "vendor/intercom/api.intercom.io.yaml",
    }
    for entry in verbatim:
        assert re.fullmatch(r"[0-9a-f]{64}", entry["original_sha256"])
        assert entry["sha256"] == entry["original_sha256"], entry["path"]
        assert entry["source"]["repository"] and entry["source"]["commit"]


def test_derived_files_name_a_vendored_origin() -> None:
    paths = {e["path"] for e in _entries()}
    for entry in (e for e in _entries() if e["kind"] == "derived"):
        assert entry["derived_from"] in paths and entry["made_by"]


def test_vendor_folder_holds_only_recorded_files() -> None:
    recorded = {e["path"] for e in _entries()}
    present = {
        p.relative_to(REPO).as_posix()
        for p in (REPO / "vendor").rglob("*")
        if p.is_file() and p not in (RECORD, NOTES)
    }
    assert present <= recorded


def test_notes_state_every_recorded_hash() -> None:
    notes = NOTES.read_text(encoding="utf-8")
    for entry in _entries():
        assert entry["path"] in notes and entry["sha256"] in notes, entry["path"]
        if "original_sha256" in entry:
            assert entry["original_sha256"] in notes, entry["path"]


#: A path reaching the reference folder beside the checkout (``../shared``, ``"shared" /``).
_OUTSIDE = re.compile(r"""\.\./shared\b|/work/shared\b|["']shared["']\s*(/|,|\))""")


def test_no_code_or_test_reads_beside_the_checkout() -> None:
    """The repository builds, runs and passes its tests with nothing beside it."""
    offenders = []
    for path in REPO.rglob("*.py"):
        relative = path.relative_to(REPO)
        if relative.parts[0].startswith(".") or relative.parts[0] in ("build", "dist"):
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if _OUTSIDE.search(line) and path != Path(__file__).resolve():
                offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []
