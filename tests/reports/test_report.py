"""The report JSON: exactly the contract shape, adding up, from the real Postgres ledger."""

from __future__ import annotations

import json

import pytest
from sqlalchemy.engine import Engine

from core.objects import OBJECTS
from ledger.dispositions import STATES
from ledger.events import RecordMigrated, SourceDeleted, WriteIntended, WriteSucceeded
from ledger.store import Ledger
from reports.errors import ReportError
from reports.report import build_report, check_sums, tally, totals
from tests.helpers.report_factories import (
    capture,
    contact,
    digest,
    kb_article,
    migrated,
    quarantined,
    reply,
    skipped,
    ticket,
)

CONTRACT_KEYS = {"migration", "objects", "quarantined", "skipped"}
COUNT_KEYS = {"source", *STATES}


def _seed(ledger: Ledger) -> None:
    migrated(ledger, ticket(1), "c1", "conversation")
    quarantined(ledger, ticket(2), "requester has no valid email: 'jane@@example'")
    skipped(ledger, ticket(3, anonymised=True), "anonymised ticket (GDPR)")
    capture(ledger, ticket(4))  # pending
    migrated(ledger, reply(10, 1, 60, "Thanks!"), "c1", "conversation_part")
    quarantined(ledger, reply(11, 99, 60, "orphan"), "its ticket 99 no longer exists")
    quarantined(ledger, contact("evil@example.com"), "<script>alert('x')</script> in name")
    migrated(ledger, contact("jane@example.com"), "ct1", "contact")
    migrated(ledger, kb_article(5, 1, 3, state="private"), "a5", "article")


def _assert_contract(report: dict) -> None:
    assert set(report) >= CONTRACT_KEYS
    assert isinstance(report["migration"], str)
    assert list(report["objects"]) == list(OBJECTS)
    for obj, counts in report["objects"].items():
        assert set(counts) == COUNT_KEYS, obj
        assert all(isinstance(v, int) for v in counts.values())
        assert counts["source"] == sum(counts[s] for s in STATES), obj
    for listed in ("quarantined", "skipped"):
        for item in report[listed]:
            assert set(item) == {"object", "source_id", "reason"}
            assert all(isinstance(v, str) for v in item.values())
    json.dumps(report)  # JSON-ready as is


def test_report_has_the_contract_shape_and_adds_up(
    engine: Engine, ledger: Ledger, migration_id: str
) -> None:
    _seed(ledger)
    report = build_report(engine, migration_id)
    _assert_contract(report)
    assert report["migration"] == migration_id
    assert report["objects"]["ticket"] == {
        "source": 4,
        "migrated": 1,
        "quarantined": 1,
        "skipped": 1,
        "pending": 1,
    }
    assert report["objects"]["reply"] == {
        "source": 2,
        "migrated": 1,
        "quarantined": 1,
        "skipped": 0,
        "pending": 0,
    }
    assert report["objects"]["staff"] == dict.fromkeys(COUNT_KEYS, 0)
    assert {"object": "ticket", "source_id": "3", "reason": "anonymised ticket (GDPR)"} in (
        report["skipped"]
    )
    reasons = {(q["object"], q["source_id"]): q["reason"] for q in report["quarantined"]}
    assert reasons[("reply", "11")] == "its ticket 99 no longer exists"
    assert len(report["quarantined"]) == 3
    assert totals(report)["source"] == 9


def test_changed_recapture_goes_back_to_pending_then_migrated(
    engine: Engine, ledger: Ledger, migration_id: str
) -> None:
    migrated(ledger, ticket(1), "c1")
    assert build_report(engine, migration_id)["objects"]["ticket"]["migrated"] == 1
    changed = ticket(1, subject="Printer 1 jams (again)")
    h = capture(ledger, changed)
    counts = build_report(engine, migration_id)["objects"]["ticket"]
    assert counts == {"source": 1, "migrated": 0, "quarantined": 0, "skipped": 0, "pending": 1}
    ledger.append_one(
        RecordMigrated(
            object="ticket",
            source_id="1",
            content_hash=h,
            intercom_id="c1",
            intercom_type="conversation",
        )
    )
    counts = build_report(engine, migration_id)["objects"]["ticket"]
    assert counts == {"source": 1, "migrated": 1, "quarantined": 0, "skipped": 0, "pending": 0}


def test_deleted_record_is_reported_apart_without_breaking_the_sum(
    engine: Engine, ledger: Ledger, migration_id: str
) -> None:
    migrated(ledger, ticket(1), "c1")
    migrated(ledger, ticket(2), "c2")
    ledger.append_one(SourceDeleted(object="ticket", source_id="2", capture="delta-1"))
    report = build_report(engine, migration_id)
    _assert_contract(report)
    assert report["objects"]["ticket"]["source"] == 2
    assert report["objects"]["ticket"]["migrated"] == 2
    assert report["deleted"] == [{"object": "ticket", "source_id": "2", "state": "migrated"}]


def test_limits_and_api_calls_are_extra_keys(
    engine: Engine, ledger: Ledger, migration_id: str
) -> None:
    _seed(ledger)
    migrated(ledger, ticket(6, fidelity="export", missing=("notes",)), "c6")
    intent = WriteIntended(
        object="ticket", source_id="6", operation="create", content_hash=digest(ticket(6))
    )
    ledger.append(
        [
            intent,
            WriteSucceeded(
                object="ticket",
                source_id="6",
                intent_key=intent.key,
                intercom_id="c6",
                intercom_type="conversation",
            ),
        ]
    )
    report = build_report(engine, migration_id)
    kinds = {item["kind"]: item["count"] for item in report["limits"]}
    assert kinds["close_assign_time"] == 2
    assert kinds["export_fidelity"] == 1
    assert kinds["article_timestamps"] == 1
    assert kinds["private_articles"] == 1
    assert "read_back_500" not in kinds
    assert report["api_calls"]["writes_intended"] == 1
    assert report["api_calls"]["writes_succeeded"] == 1
    assert report["as_of_seq"] > 0


def test_empty_migration_reports_every_object_at_zero(engine: Engine, migration_id: str) -> None:
    report = build_report(engine, migration_id)
    _assert_contract(report)
    assert totals(report) == dict.fromkeys(COUNT_KEYS, 0)
    assert report["quarantined"] == [] and report["skipped"] == [] and report["limits"] == []


def test_unknown_objects_stay_out_of_the_contract_objects() -> None:
    rows = [
        {
            "object": "ticket_template",
            "source_id": "1",
            "state": "skipped",
            "reason": "r",
            "captured": True,
        },
    ]
    counts = tally(rows)
    assert "ticket_template" not in counts["objects"]
    assert counts["other_objects"]["ticket_template"]["skipped"] == 1


def test_records_never_captured_from_hesk_are_not_counted() -> None:
    """Built-in attributes and the anonymised placeholder are settled but are no Hesk record."""
    rows = [
        {"object": "custom_field", "source_id": "7", "state": "migrated", "captured": True},
        {"object": "custom_field", "source_id": "builtin:hesk_trackid", "state": "migrated"},
    ]
    assert tally(rows)["objects"]["custom_field"]["source"] == 1


def test_a_report_that_does_not_add_up_is_an_error() -> None:
    with pytest.raises(ReportError, match="does not add up"):
        check_sums(
            {"ticket": {"source": 2, "migrated": 1, "quarantined": 0, "skipped": 0, "pending": 0}}
        )
