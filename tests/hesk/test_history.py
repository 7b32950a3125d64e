"""History parsing with Hesk's real English strings."""

from __future__ import annotations

from datetime import UTC, datetime

from hesk.history import parse_history, php_to_strptime

EXAMPLE = (
    '<li class="smaller">2025-03-05 14:22:10 | submitted by John &amp; Sons</li>'
    '<li class="smaller">2025-03-05 14:22:10 | automatically assigned to Jane Doe (jane)</li>'
    '<li class="smaller">2025-03-06 09:01:44 | status changed to In Progress by Jane Doe '
    "(jane)</li>"
    '<li class="smaller">2025-03-07 10:00:00 | closed by Jane Doe (jane)</li>'
)


def test_parses_a_history_in_the_desks_timezone_as_utc() -> None:
    entries = parse_history(
        EXAMPLE, parent_object="ticket", parent_id=42, timezone="Europe/Ljubljana"
    )
    assert [e.text for e in entries] == [
        "submitted by John & Sons",
        "automatically assigned to Jane Doe (jane)",
        "status changed to In Progress by Jane Doe (jane)",
        "closed by Jane Doe (jane)",
    ]
    assert entries[0].at == datetime(2025, 3, 5, 13, 22, 10, tzinfo=UTC)  # CET = UTC+1
    assert entries[0].source_id == "42:0" and entries[3].index == 3


def test_real_strings_with_pipes_and_dst() -> None:
    value = (
        '<li class="smaller">2024-07-01 12:00:00 | moved to category Billing | EU by Ann (ann)'
        "</li>"
        '<li class="smaller">2024-07-02 08:00:00 | merged with ticket QBW-7D5-LPXN by Ann (ann)'
        "</li>"
        '<li class="smaller">2024-07-03 08:00:00 | anonymized by Ann (ann)</li>'
        '<li class="smaller">2024-07-04 08:00:00 | overdue email notification sent</li>'
    )
    entries = parse_history(value, parent_object="ticket", parent_id=1, timezone="Europe/Ljubljana")
    assert entries[0].text == "moved to category Billing | EU by Ann (ann)"
    assert entries[0].at == datetime(2024, 7, 1, 10, 0, tzinfo=UTC)  # CEST = UTC+2
    assert "merged with ticket QBW-7D5-LPXN" in entries[1].text


def test_unparseable_entries_are_kept_verbatim() -> None:
    value = (
        '<li class="smaller">5. März 2024 | geschlossen von Ann (ann)</li>'
        '<li class="smaller">garbage without separator</li>'
        '<li class="smaller">2024-01-01 00:00:00 | opened by Ann (ann)</li>'
    )
    entries = parse_history(value, parent_object="ticket", parent_id=9)
    assert len(entries) == 3
    assert entries[0].at is None and entries[0].raw_date == "5. März 2024"
    assert entries[1].at is None and "garbage" in entries[1].text
    assert entries[2].at == datetime(2024, 1, 1, tzinfo=UTC)


def test_custom_php_date_format() -> None:
    assert php_to_strptime("d.m.Y H:i") == "%d.%m.%Y %H:%M"
    entries = parse_history(
        '<li class="smaller">05.03.2025 14:22 | closed by X (x)</li>',
        parent_object="ticket",
        parent_id=1,
        date_format="d.m.Y H:i",
        timezone="America/New_York",
    )
    assert entries[0].at == datetime(2025, 3, 5, 19, 22, tzinfo=UTC)
