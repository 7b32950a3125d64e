"""The report as one self-contained HTML page for people (support leads, consultants).

Rendered with Jinja2 and **autoescape on**: every value from Hesk (reasons, ids, names) is
escaped, so source data can never inject markup. The page has inline CSS and no external
asset, script or font: it can be mailed or opened offline.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from ledger.dispositions import STATES
from reports.report import COUNT_KEYS, totals

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # always, whatever the file name: Hesk data is untrusted
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def percent(part: int, whole: int) -> float:
    """``part`` as a percentage of ``whole`` (0 when whole is 0), one decimal."""
    return round(100.0 * part / whole, 1) if whole else 0.0


def group_by_reason(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records grouped by (object, reason), biggest group first, each with its ids."""
    counts = Counter((i["object"], i["reason"]) for i in items)
    ids: dict[tuple[str, str], list[str]] = {}
    for i in items:
        ids.setdefault((i["object"], i["reason"]), []).append(i["source_id"])
    return [
        {"object": obj, "reason": reason, "count": n, "source_ids": ids[(obj, reason)]}
        for (obj, reason), n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def next_steps(report: dict[str, Any]) -> list[str]:
    """What the reader should do next, from what the report shows."""
    total = totals(report)
    steps: list[str] = []
    if total["pending"]:
        steps.append(
            f"{total['pending']} records are still pending: run `hesk2intercom migrate` "
            "again (it resumes), then `hesk2intercom report`."
        )
    if total["quarantined"]:
        steps.append(
            f"{total['quarantined']} records are quarantined: fix each reason below in Hesk "
            "or in the map, then run `hesk2intercom migrate` to retry them."
        )
    if total["skipped"]:
        steps.append(
            "Review the skipped records: each was left out by a rule (e.g. anonymised "
            "tickets, canned responses that Intercom cannot import by API)."
        )
    if report.get("deleted"):
        steps.append(
            f"{len(report['deleted'])} records were deleted from Hesk after capture: decide "
            "whether their Intercom copies should stay."
        )
    if total["migrated"]:
        steps.append(
            "Run `hesk2intercom verify` to read a random sample back from Intercom and "
            "compare it with Hesk."
        )
    if not total["source"]:
        steps.append("Nothing has been captured yet: run `hesk2intercom discover` first.")
    return steps


def report_context(report: dict[str, Any]) -> dict[str, Any]:
    """Everything the template shows, computed from the report dict."""
    rows = []
    for obj, c in report["objects"].items():
        shares = {s: percent(c[s], c["source"]) for s in STATES}
        rows.append({"object": obj, "counts": c, "shares": shares})
    total = totals(report)
    return {
        "report": report,
        "rows": rows,
        "states": STATES,
        "count_keys": COUNT_KEYS,
        "total": total,
        "total_shares": {s: percent(total[s], total["source"]) for s in STATES},
        "quarantine_groups": group_by_reason(report["quarantined"]),
        "skipped_groups": group_by_reason(report["skipped"]),
        "limits": report.get("limits", []),
        "deleted": report.get("deleted", []),
        "api_calls": report.get("api_calls", {}),
        "next_steps": next_steps(report),
    }


def render_html(report: dict[str, Any]) -> str:
    """The report as an HTML document (a string)."""
    template = _environment().get_template("report.html.j2")
    return template.render(**report_context(report))


def write_html_report(report: dict[str, Any], path: Path) -> Path:
    """Write the report as a self-contained HTML file at ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report), encoding="utf-8")
    return path
