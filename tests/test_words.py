"""The code and the docs speak of the product: no issue numbers, no notes on how it was
built, and no references to files outside the repository (a fact they carried is stated
in docs/). Read from every tracked ``*.py`` and ``*.md``."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

#: What is forbidden, by kind.
FORBIDDEN: dict[str, re.Pattern[str]] = {
    "issue number": re.compile(
        r"\bissues?\s*#?\s*\d+\b|\(issue\b|\bits issue\b|\bthe issue's\b|\bin the issue\b", re.I
    ),
    "outside file": re.compile(
        r"\b(?:BRIEF|DESIGN|STYLE|SEMANTICS)(?:\.md\b|\s*§)|\bAPI_NOTES\b|§\s*\d"
        r"|(?:\.\.|/work)/shared\b|\bsample_export\.md\b"
    ),
    "build history": re.compile(r"\bthis session\b|\bbefore the fix(?:es)?\b", re.I),
}

#: Files allowed to name what a kind forbids, and why.
EXCEPTIONS: dict[str, set[str]] = {
    # Names what it forbids, to catch it everywhere else.
    "tests/test_words.py": set(FORBIDDEN),
    # Its check forbids code that reaches for the folder beside the checkout.
    "tests/test_vendored.py": {"outside file"},
    # Names where each vendored file came from.
    "vendor/VENDORED.md": {"outside file"},
}


def tracked_files() -> list[str]:
    """Every tracked ``*.py`` and ``*.md`` (every such file outside hidden and build folders
    when this is not a git checkout)."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--", "*.py", "*.md"],
            cwd=REPO,
            capture_output=True,
            check=True,
        ).stdout.decode()
        return sorted(p for p in listed.split("\0") if p and (REPO / p).is_file())
    except (OSError, subprocess.CalledProcessError):
        return sorted(
            p.relative_to(REPO).as_posix()
            for p in REPO.rglob("*")
            if p.suffix in (".py", ".md")
            and p.is_file()
            and not any(
                part.startswith(".") or part in ("build", "dist") or part.endswith(".egg-info")
                for part in p.relative_to(REPO).parts[:-1]
            )
        )


def offenders_in(path: str, text: str) -> list[str]:
    """``path:line: kind: text`` for each forbidden word the file may not hold."""
    allowed = EXCEPTIONS.get(path, set())
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for kind, pattern in FORBIDDEN.items():
            if kind not in allowed and pattern.search(line):
                found.append(f"{path}:{number}: {kind}: {line.strip()}")
    return found


def test_no_issue_numbers_history_or_outside_references() -> None:
    files = tracked_files()
    assert "cli.py" in files and "docs/architecture.md" in files
    offenders = [
        o for path in files for o in offenders_in(path, (REPO / path).read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_the_check_sees_what_it_forbids() -> None:
    bad = [
        "# --- ledger commands (issue 3) ---",
        "see issue #12",
        "*(added by its issue)*",
        "(about 1,700 in the issue's estimate)",
        '"""Contacts (API_NOTES §5.2)."""',
        "per DESIGN.md",
        "(BRIEF.md, Ticket row)",
        "anonymised (§15 marks)",
        "string (SEMANTICS.md §6)",
        "reads ../" + "shared/hesk",  # split: test_vendored forbids the path itself
        "Before this session's changes",
        "**Before the fixes**",
    ]
    for line in bad:
        assert offenders_in("x.py", line), line
    good = [
        "the agent acknowledged the issue",
        "a design that holds",
        "`hesk_ticket_id` (the Hesk ticket id)",
        "backtick as ``&#96;``",
        "sessions ended, a clean checkpoint",
    ]
    for line in good:
        assert offenders_in("x.py", line) == [], line
