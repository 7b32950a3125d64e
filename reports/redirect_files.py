"""Redirect files for the web server that served Hesk: nginx, Apache, or CSV for people.

Writers stream: entries (:class:`mapping.redirects.Redirect`) are written as they come,
grouped in :data:`mapping.redirects.GROUPS` order, so any number of tickets fits in flat
memory. An entry without a target is written as a comment saying why (CSV: ``redirected``
no), never as a rule.

* **nginx**: ``map`` blocks for the ``http {}`` context, keyed on the page and the query
  argument (``$uri|$arg_article``…), so each request is one hash lookup whatever the number
  of rules; the last map picks the first target set. The Hesk host's ``server {}`` block
  needs one line: ``if ($hesk2intercom_redirect) { return 301 $hesk2intercom_redirect; }``.
* **apache**: a RewriteMap of type ``txt`` ("key value" per line, ``#`` comments), with
  the RewriteCond/RewriteRule lines that use it in its header.
* **csv**: ``hesk_url, intercom_url, kind, redirected, note``, cells made safe for
  spreadsheets (:mod:`core.csvsafe`).
"""

from __future__ import annotations

import csv
import re
from typing import TextIO

from core.csvsafe import safe_cell
from mapping.redirects import GROUPS, Redirect
from mapping.urls import hesk_link, hesk_path_prefix

FORMATS = ("nginx", "apache", "csv")
#: The nginx variable holding the target; the server block returns 301 to it.
NGINX_VARIABLE = "hesk2intercom_redirect"
#: The Apache RewriteMap name the rules use.
APACHE_MAP = "hesk2intercom"


def one_line(text: str) -> str:
    """``text`` on one line (a comment must not end early)."""
    return " ".join(str(text).split())


def nginx_string(text: str) -> str:
    """``text`` as a double-quoted nginx string."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


class RedirectWriter:
    """Writes redirects as they come: ``start``, ``add`` each (grouped), ``finish``."""

    def __init__(self, out: TextIO, hesk_url: str) -> None:
        self.out = out
        self.hesk_url = hesk_url.rstrip("/")
        self.prefix = hesk_path_prefix(self.hesk_url)
        self.group: str | None = None
        self.done: list[str] = []
        self.rules = 0
        self.comments = 0

    def start(self) -> None:
        """Write what comes before the first entry."""

    def add(self, redirect: Redirect) -> None:
        """Write one entry: a rule, or a comment when it has no target."""
        if redirect.group != self.group:
            self._advance(redirect.group)
        if redirect.target:
            self.rules += 1
        else:
            self.comments += 1
        self._entry(redirect)

    def finish(self) -> None:
        """Close every group (empty ones too) and write what comes after the last."""
        self._advance(None)
        self._end()

    def link(self, r: Redirect) -> str:
        """The Hesk link an entry redirects."""
        return hesk_link(self.hesk_url, r.page, r.arg, r.value)

    def _advance(self, group: str | None) -> None:
        """Close the open group and pass every group before ``group`` (None: all of them)."""
        if self.group is not None:
            self._close(self.group)
            self.done.append(self.group)
            self.group = None
        upto = GROUPS.index(group) if group is not None else len(GROUPS)
        for g in GROUPS[:upto]:
            if g not in self.done:
                self._open(g)
                self._close(g)
                self.done.append(g)
        if group is not None:
            if group in self.done:
                raise ValueError(f"redirects of group {group!r} came after a later group")
            self.group = group
            self._open(group)

    def _open(self, group: str) -> None:
        """Begin a group."""

    def _close(self, group: str) -> None:
        """End a group."""

    def _entry(self, r: Redirect) -> None:
        raise NotImplementedError

    def _end(self) -> None:
        """Write what comes after the last group."""


class NginxWriter(RedirectWriter):
    """``map`` blocks for nginx's ``http {}`` context.

    ``entries``: at most how many rules one map will hold; nginx builds each map's hash
    within ``map_hash_max_size`` (default 2,048), so the file sets it (and a bucket size
    for the longest key) before its maps.
    """

    _KEYS = {
        "article": "$uri|$arg_article",
        "category": "$uri|$arg_category",
        "track": "$uri|$arg_track",
        "page": "$uri|$args",
    }

    def __init__(self, out: TextIO, hesk_url: str, *, entries: int = 0) -> None:
        super().__init__(out, hesk_url)
        self.entries = entries

    def start(self) -> None:
        """What the file is, the one line the Hesk host's server block needs, and the hash
        sizes its maps need."""
        longest = len(self.prefix) + 96  # page, "|" and a tracking id of up to 64
        bucket = 128
        while bucket < longest + 32:
            bucket *= 2
        self.out.write(
            f"# Redirects from Hesk ({self.hesk_url}/) to Intercom, written by hesk2intercom.\n"
            "# Include this file in nginx's http {} block, and add to the server {} block\n"
            "# that serves Hesk:\n"
            f"#     if (${NGINX_VARIABLE}) {{ return 301 ${NGINX_VARIABLE}; }}\n"
            "# Lines starting with # inside the maps are links not redirected, and why.\n\n"
            "# Sizes for the maps below (remove these two lines if your nginx.conf sets them\n"
            "# already, keeping values at least as large).\n"
            f"map_hash_max_size {max(2048, 2 * self.entries + 64)};\n"
            f"map_hash_bucket_size {bucket};\n\n"
        )

    def _open(self, group: str) -> None:
        self.out.write(
            f'map {nginx_string(self._KEYS[group])} $hesk2intercom_{group} {{\n    default "";\n'
        )

    def _close(self, group: str) -> None:
        self.out.write("}\n\n")

    def _entry(self, r: Redirect) -> None:
        if not r.target:
            self.out.write(f"    # {self.link(r)} not redirected: {one_line(r.note)}\n")
            return
        path = f"{self.prefix}{r.page}"
        # a customer's ticket link goes to one page whatever its query
        key = "~^" + re.escape(path) + r"\|" if r.kind == "customer_ticket" else f"{path}|{r.value}"
        self.out.write(f"    {nginx_string(key)} {nginx_string(r.target)};\n")

    def _end(self) -> None:
        parts = "|".join(f"$hesk2intercom_{g}" for g in GROUPS)
        self.out.write(
            "# The first target above that is set.\n"
            f"map {nginx_string(parts)} ${NGINX_VARIABLE} {{\n"
            '    default "";\n'
            '    "~^\\|*(?<hesk2intercom_to>[^|]+)" $hesk2intercom_to;\n'
            "}\n"
        )


class ApacheWriter(RedirectWriter):
    """A RewriteMap ``txt`` file and, in its header, the rules that use it."""

    _KEYS = {
        "article": "article:{v}",
        "staff_article": "",
        "category": "category:{v}",
        "staff_ticket": "staff:{v}",
        "kb_home": "kb-home",
        "customer_ticket": "customer",
    }

    def __init__(self, out: TextIO, hesk_url: str, *, admin_dir: str = "admin") -> None:
        super().__init__(out, hesk_url)
        self.admin_dir = admin_dir

    def directives(self) -> list[str]:
        """The Apache directives that use the map, for the Hesk host's <VirtualHost>."""
        p = re.escape(self.prefix.lstrip("/"))
        admin = re.escape(self.admin_dir)

        def lookup(key: str) -> str:
            return f"RewriteCond ${{{APACHE_MAP}:{key}}} ^(.+)$"

        return [
            "RewriteEngine On",
            f'RewriteMap {APACHE_MAP} "txt:/etc/apache2/hesk2intercom-redirects.txt"',
            "RewriteCond %{QUERY_STRING} (?:^|&)article=([^&]+)",
            lookup("article:%1"),
            f"RewriteRule ^/?{p}(?:knowledgebase|{admin}/knowledgebase_private)\\.php$ %1 "
            "[R=301,L,QSD]",
            "RewriteCond %{QUERY_STRING} (?:^|&)category=([^&]+)",
            lookup("category:%1"),
            f"RewriteRule ^/?{p}knowledgebase\\.php$ %1 [R=301,L,QSD]",
            "RewriteCond %{QUERY_STRING} !(?:^|&)(?:article|category)=",
            lookup("kb-home"),
            f"RewriteRule ^/?{p}knowledgebase\\.php$ %1 [R=301,L,QSD]",
            "RewriteCond %{QUERY_STRING} (?:^|&)track=([^&]+)",
            lookup("staff:%1"),
            f"RewriteRule ^/?{p}{admin}/admin_ticket\\.php$ %1 [R=301,L,QSD]",
            lookup("customer"),
            f"RewriteRule ^/?{p}ticket\\.php$ %1 [R=301,L,QSD]",
        ]

    def start(self) -> None:
        """What the file is, and the rules to put in the Hesk host's <VirtualHost>."""
        self.out.write(
            f"# Redirects from Hesk ({self.hesk_url}/) to Intercom, written by hesk2intercom.\n"
            '# An Apache RewriteMap of type txt: one "key value" pair per line; lines\n'
            "# starting with # are comments (links not redirected, and why).\n"
            "# Save it as /etc/apache2/hesk2intercom-redirects.txt and put these lines in\n"
            "# the <VirtualHost> serving Hesk (RewriteMap is not allowed in .htaccess):\n"
            + "".join(f"#     {line}\n" for line in self.directives())
            + "\n"
        )

    def _entry(self, r: Redirect) -> None:
        if not r.target:
            self.out.write(f"# {self.link(r)} not redirected: {one_line(r.note)}\n")
            return
        key = self._KEYS[r.kind].format(v=r.value)
        if key:  # the staff view of an article shares the article's key
            self.out.write(f"{key} {r.target}\n")


class CsvWriter(RedirectWriter):
    """One row per Hesk link: ``hesk_url, intercom_url, kind, redirected, note``."""

    def __init__(self, out: TextIO, hesk_url: str) -> None:
        super().__init__(out, hesk_url)
        self.csv = csv.writer(out, lineterminator="\n")

    def start(self) -> None:
        """The header row."""
        self.csv.writerow(("hesk_url", "intercom_url", "kind", "redirected", "note"))

    def _entry(self, r: Redirect) -> None:
        link = self.link(r)
        if r.kind == "customer_ticket":
            link += "?track=*"
        redirected = "yes" if r.target else "no"
        self.csv.writerow(
            [safe_cell(v) for v in (link, r.target, r.kind, redirected, one_line(r.note))]
        )


def writer_for(
    fmt: str, out: TextIO, hesk_url: str, *, admin_dir: str = "admin", entries: int = 0
) -> RedirectWriter:
    """The writer of one format (``nginx``, ``apache`` or ``csv``); ``entries``: at most
    how many rules one group holds."""
    if fmt == "nginx":
        return NginxWriter(out, hesk_url, entries=entries)
    if fmt == "apache":
        return ApacheWriter(out, hesk_url, admin_dir=admin_dir)
    if fmt == "csv":
        return CsvWriter(out, hesk_url)
    raise ValueError(f"unknown format {fmt!r}: use nginx, apache or csv")
