"""The report as one self-contained HTML page for people (support leads, consultants).

Rendered with Jinja2 and **autoescape on**: every value from Hesk (reasons, ids, names) is
escaped, so source data can never inject markup. The page has inline CSS and SVG and no
external asset, script or font: it can be mailed or opened offline. Beyond the
reconciliation it shows, when given the run's details (reports/details.py), the newest
verify, the run's timeline and phases, a few migrated tickets with their Intercom links,
and links to the ID map and redirect files last written.
"""

from __future__ import annotations

import contextlib
import os
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup

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
    verified = report.get("verify")
    if verified and verified["differences"]:
        steps.append(
            f"The last verify found {len(verified['differences'])} difference(s): look at "
            "each below in Intercom, fix the cause, then run `hesk2intercom verify` again."
        )
    elif total["migrated"] and not verified:
        steps.append(
            "Run `hesk2intercom verify` to read a random sample back from Intercom and "
            "compare it with Hesk."
        )
    exports = report.get("exports") or {}
    if total["migrated"] and "idmap" not in exports:
        steps.append("Write the ID map for your records: `hesk2intercom idmap --out idmap.csv`.")
    if total["migrated"] and "redirects" not in exports:
        steps.append(
            "Keep old Hesk links working: `hesk2intercom redirects --hesk-url "
            "https://your-hesk --out redirects.conf`, then install it "
            "(docs/idmap-and-redirects.md)."
        )
    if not total["source"]:
        steps.append("Nothing has been captured yet: run `hesk2intercom discover` first.")
    return steps


def file_links(exports: dict[str, Any], page: Path | None) -> list[dict[str, Any]]:
    """The files last written (ID map, redirects), each with a link relative to the page."""
    out = []
    for kind, title in (("idmap", "ID map"), ("redirects", "Redirects")):
        found = exports.get(kind)
        if not found:
            continue
        href = Path(found["path"]).as_uri()
        if page is not None:
            with contextlib.suppress(ValueError):  # another drive: keep the file URI
                href = quote(Path(os.path.relpath(found["path"], page.parent)).as_posix())
        out.append({"kind": kind, "title": title, "href": href, **found})
    return out


def report_context(
    report: dict[str, Any], details: dict[str, Any] | None = None, page: Path | None = None
) -> dict[str, Any]:
    """Everything the template shows, computed from the report dict (and the run's
    details, when given; ``page``: where the HTML file goes, for relative links)."""
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
        "verify": report.get("verify"),
        "files": file_links(report.get("exports") or {}, page),
        "details": details,
        # built from numbers only (reports/svg.py), so it is markup, not data
        "timeline_svg": Markup((details or {}).get("timeline_svg") or ""),
    }


def render_html(
    report: dict[str, Any], details: dict[str, Any] | None = None, page: Path | None = None
) -> str:
    """The report as an HTML document (a string)."""
    template = _environment().get_template("report.html.j2")
    return template.render(**report_context(report, details, page))


def write_html_report(
    report: dict[str, Any], path: Path, details: dict[str, Any] | None = None
) -> Path:
    """Write the report as a self-contained HTML file at ``path``; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_html(report, details, path.resolve()), encoding="utf-8")
    return path
