"""Write the export Hesk 3.7 would write for a Hesk database (tests and demos).

This follows Hesk's ``hesk_export_to_XML`` (admin page "Export", 3.7.x) step by step: the
same queries on the same tables, the same text functions (``hesk_msgToPlain``: links to
their href, ``<br />`` to a newline, trimmed, entities decoded except ``&#039;``), the
same bytes of XML around the cells (tabs, blank lines, the two spaces after a custom
field cell), CDATA split at ``]]>``, and the same zip (one ``hesk_export_<time>_<n>.xml``).

Times go the way they go in Hesk: MySQL hands ``TIMESTAMP`` columns over in a session
whose time zone is the server's UTC offset *at the time of the export*, and PHP writes
them back through ``strtotime``/``date`` in the help desk's timezone (which moves a time
of the skipped spring hour forward by one hour). History is written as stored.

Checked against files Hesk itself wrote (tests/hesk/data): byte for byte the same.

Options are the export page's: ``history`` and ``replies`` (the two checkboxes),
``language`` (the exporting user's), and the settings ``new_top`` (newest reply first),
``email_view_ticket`` and ``hesk_url``.
"""

from __future__ import annotations

import html.entities
import json
import re
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pymysql
from sqlalchemy.engine import make_url

from hesk.export_cells import ExportClock
from hesk.export_labels import FIXED_COLUMNS, LANGUAGES, label

_LINK = re.compile(r'<a href="(mailto:)?([^"]*)"[^<]*</a>', re.I)
_BR = re.compile(r"<br />\s*")
_ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[A-Za-z][A-Za-z0-9]*);")
_LANGUAGE_NAMES = {code: strings["LANGUAGE"] for code, strings in LANGUAGES.items()}

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<?mso-application progid="Excel.Sheet"?>
<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:o="urn:schemas-microsoft-com:office:office"
 xmlns:x="urn:schemas-microsoft-com:office:excel"
 xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"
 xmlns:html="http://www.w3.org/TR/REC-html40">
 <OfficeDocumentSettings xmlns="urn:schemas-microsoft-com:office:office">
  <AllowPNG/>
 </OfficeDocumentSettings>
 <ExcelWorkbook xmlns="urn:schemas-microsoft-com:office:excel">
  <WindowHeight>8250</WindowHeight>
  <WindowWidth>16275</WindowWidth>
  <WindowTopX>360</WindowTopX>
  <WindowTopY>90</WindowTopY>
  <ProtectStructure>False</ProtectStructure>
  <ProtectWindows>False</ProtectWindows>
 </ExcelWorkbook>
 <Styles>
  <Style ss:ID="Default" ss:Name="Normal">
   <Alignment ss:Vertical="Bottom"/>
   <Borders/>
   <Font ss:FontName="Calibri" x:CharSet="238" x:Family="Swiss" ss:Size="11"
    ss:Color="#000000"/>
   <Interior/>
   <NumberFormat/>
   <Protection/>
  </Style>
  <Style ss:ID="s62">
   <NumberFormat ss:Format="General Date"/>
  </Style>
  <Style ss:ID="s63">
   <NumberFormat ss:Format="Short Date"/>
  </Style>
  <Style ss:ID="s65">
   <NumberFormat ss:Format="[h]:mm:ss"/>
  </Style>
 </Styles>
 <Worksheet ss:Name="Sheet1">
  <Table>
"""
WIDTHS = (
    "50",
    "84",
    "100",
    "100",
    "100",
    "100",
    "90",
    "90",
    "90",
    "87",
    "57.75",
    "57.75",
    "100",
    "100",
    "80",
    "50",
    "50",
    "70",
    "70",
)
_OPTIONS = """  <WorksheetOptions xmlns="urn:schemas-microsoft-com:office:excel">
   <PageSetup>
    <Header x:Margin="0.3"/>
    <Footer x:Margin="0.3"/>
    <PageMargins x:Bottom="0.75" x:Left="0.7" x:Right="0.7" x:Top="0.75"/>
   </PageSetup>
"""
_EMPTY_SHEET = (
    """ <Worksheet ss:Name="{name}">
  <Table ss:ExpandedColumnCount="1" ss:ExpandedRowCount="1" x:FullColumns="1"
   x:FullRows="1" ss:DefaultRowHeight="15">
  </Table>
"""
    + _OPTIONS
    + """   <ProtectObjects>False</ProtectObjects>
   <ProtectScenarios>False</ProtectScenarios>
  </WorksheetOptions>
 </Worksheet>
"""
)
TAIL = (
    "\n  </Table>\n"
    + _OPTIONS
    + """   <Selected/>
   <Panes>
    <Pane>
     <Number>3</Number>
     <ActiveRow>4</ActiveRow>
    </Pane>
   </Panes>
   <ProtectObjects>False</ProtectObjects>
   <ProtectScenarios>False</ProtectScenarios>
  </WorksheetOptions>
 </Worksheet>
"""
    + _EMPTY_SHEET.format(name="Sheet2")
    + _EMPTY_SHEET.format(name="Sheet3")
    + "</Workbook>\n"
)


@dataclass(frozen=True)
class ExportOptions:
    """The export page's choices and the Hesk settings the export depends on."""

    history: bool = True
    replies: bool = True
    language: str = "en"
    timezone: str = "UTC"
    new_top: bool = False
    email_view_ticket: bool = False
    hesk_url: str = "https://help.example.com"
    table_prefix: str = "hesk_"
    made_at: datetime | None = None  # when the export runs (aware); default now
    random_digits: int = 123456
    #: Line end inside Hesk's PHP string literals: CRLF, as Hesk's files are shipped (so
    #: the file mixes them with the LF of its "\n" escapes); LF where a server's copy
    #: was converted on upload.
    eol: str = "\r\n"

    def lit(self, text: str) -> str:
        """A piece Hesk writes from a multi-line PHP literal: its line ends are ``eol``."""
        return text.replace("\n", self.eol)


def _entity(match: re.Match[str]) -> str:
    name = match.group(1)
    if name.startswith("#"):
        code = int(name[2:], 16) if name[1:2] in "xX" else int(name[1:])
        if code == 39 or not 0 < code < 0x110000 or 0xD800 <= code < 0xE000:
            return match.group(0)  # ENT_COMPAT leaves single quotes encoded
        return chr(code)
    if name in html.entities.name2codepoint:  # the XHTML 1.0 set
        return chr(html.entities.name2codepoint[name])
    return match.group(0)


def msg_to_plain(msg: str | None) -> str:
    """``hesk_msgToPlain($msg, 1, 0)``."""
    if not msg:
        return ""
    msg = _LINK.sub(lambda m: m.group(2), msg)
    msg = _BR.sub("\n", msg)
    msg = msg.strip(" \t\n\r\0\x0b")
    return _ENTITY.sub(_entity, msg)


def escape_cdata(text: str) -> str:
    """``hesk_escape_CDATA``."""
    return text.replace("]]>", "]]]]><![CDATA[>")


def _pick(raw: str | None, language: str) -> str:
    """A Hesk JSON name in the language, or the first one (as Hesk picks it)."""
    try:
        names = json.loads(raw or "")
    except ValueError:
        return raw or ""
    if not isinstance(names, dict) or not names:
        return str(names or "")
    return str(names.get(language, next(iter(names.values()))))


class _Db:
    """The Hesk database, read like Hesk reads it during an export."""

    def __init__(self, url: str, prefix: str, offset_seconds: int) -> None:
        u = make_url(url)
        self.conn = pymysql.connect(
            host=u.host or "127.0.0.1",
            port=u.port or 3306,
            user=u.username or "root",
            password=u.password or "",
            database=u.database,
            charset="utf8mb4",
            cursorclass=pymysql.cursors.DictCursor,
        )
        self.p = prefix
        sign = "-" if offset_seconds < 0 else "+"
        hours, rest = divmod(abs(offset_seconds), 3600)
        self.query(f"SET time_zone = '{sign}{hours:02d}:{rest // 60:02d}'")

    def query(self, sql: str, args: Any = None) -> list[dict[str, Any]]:
        with self.conn.cursor() as cur:
            cur.execute(sql.replace("{p}", self.p), args)
            return list(cur.fetchall())

    def has(self, table: str) -> bool:
        return bool(self.query("SHOW TABLES LIKE %s", (self.p + table,)))


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, timedelta):  # a TIME column, as MySQL prints it
        minutes, seconds = divmod(int(value.total_seconds()), 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}:{seconds:02d}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


def write_export(url: str, folder: str | Path, options: ExportOptions | None = None) -> Path:
    """Export every ticket of the Hesk database at ``url`` into ``folder``, as Hesk does.

    Returns the path of ``hesk_export_<local time>_<digits>.zip``.
    """
    opt = options or ExportOptions()
    tz = ZoneInfo(opt.timezone)
    made_at = (opt.made_at or datetime.now(UTC)).astimezone(tz)
    offset = made_at.utcoffset()
    clock = ExportClock(tz, offset)
    lang = opt.language
    db = _Db(url, opt.table_prefix, int(offset.total_seconds()) if offset else 0)
    try:
        body = _workbook(db, opt, clock, lang)
    finally:
        db.conn.close()
    name = f"hesk_export_{made_at:%Y-%m-%d_%H-%M-%S}_{opt.random_digits}"
    path = Path(folder) / f"{name}.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr(f"{name}.xml", body)
    return path


def _workbook(db: _Db, opt: ExportOptions, clock: ExportClock, lang: str) -> str:
    language = _LANGUAGE_NAMES[lang]
    admins = {
        r["id"]: msg_to_plain(r["name"])
        for r in db.query("SELECT `id`,`name` FROM `{p}users` ORDER BY `name` ASC")
    }
    cats = {
        r["id"]: msg_to_plain(r["name"])
        for r in db.query("SELECT `id`, `name` FROM `{p}categories` ORDER BY `cat_order` ASC")
    }
    fields = [
        {"key": f"custom{r['id']}", "name": _pick(r["name"], language), "type": r["type"]}
        for r in db.query(
            "SELECT * FROM `{p}custom_fields` WHERE `use` IN ('1', '2') "
            "ORDER BY `place` ASC, `order` ASC"
        )
    ]
    statuses = {
        code: label(lang, key)
        for key, code in (
            ("open", 0),
            ("wait_reply", 1),
            ("replied", 2),
            ("closed", 3),
            ("in_progress", 4),
            ("on_hold", 5),
        )
    }
    if db.has("custom_statuses"):
        for r in db.query("SELECT `id`, `name` FROM `{p}custom_statuses` ORDER BY `id` ASC"):
            statuses[r["id"]] = _pick(r["name"], language)
    priorities = _priorities(db, lang, language)

    out = [opt.lit(HEAD), opt.lit("\n\t")]
    out += [opt.lit(f'<Column ss:AutoFitWidth="0" ss:Width="{w}"/>\n\t') for w in WIDTHS]
    out += ['<Column ss:AutoFitWidth="0" ss:Width="80"/>\n' for _ in fields]
    extra = int(opt.history) + int(opt.replies)
    out += ['<Column ss:AutoFitWidth="0" ss:Width="100"/>\n'] * extra
    out.append(_header(lang, fields, opt))
    sql = (
        "SELECT `tickets`.*, `requester`.`name` AS `name` FROM `{p}tickets` AS `tickets` "
        "LEFT JOIN `{p}ticket_to_customer` AS `ticket_to_customer` "
        "ON `tickets`.`id` = `ticket_to_customer`.`ticket_id` "
        "AND `ticket_to_customer`.`customer_type` = 'REQUESTER' "
        "LEFT JOIN `{p}customers` AS `requester` "
        "ON `ticket_to_customer`.`customer_id` = `requester`.`id` WHERE 1"
    )
    for t in db.query(sql):
        out.append(_row(db, t, opt, clock, lang, admins, cats, fields, statuses, priorities))
    out.append(opt.lit(TAIL))
    return "".join(out)


def _priorities(db: _Db, lang: str, language: str) -> dict[int, str]:
    builtin = {
        0: label(lang, "critical"),
        1: label(lang, "high"),
        2: label(lang, "medium"),
        3: label(lang, "low"),
    }
    if not db.has("custom_priorities"):
        return builtin
    out: dict[int, str] = {}
    for r in db.query(
        "SELECT `id`, `name` FROM `{p}custom_priorities` ORDER BY `priority_order` ASC"
    ):
        try:
            names = json.loads(r["name"] or "{}")
        except ValueError:
            names = {}
        own = names.get(language) if isinstance(names, dict) else None
        if r["id"] < 4 and (own is None or str(own).lower() == "null"):
            out[r["id"]] = builtin.get(r["id"], builtin[3])
        else:
            out[r["id"]] = _pick(r["name"], language)
    return out


def _header(lang: str, fields: list[dict[str, Any]], opt: ExportOptions) -> str:
    cell = '<Cell><Data ss:Type="String">{}</Data></Cell>'
    keys = FIXED_COLUMNS[1:]  # "#" is written as is, before them
    indents = (
        "\t",
        "\t",
        "    ",
        "    ",
        "    ",
        "\t",
        "\t",
        "\t",
        "\t",
        "\t",
        "\t",
        "\t",
        "\t",
        "\t",
        "\t",
        "\t",
        "\t",
        "\t",
    )
    text = '\n\t<Row>\n\t<Cell><Data ss:Type="String">#</Data></Cell>\n'
    for key, indent in zip(keys, indents, strict=True):
        text += indent + cell.format(label(lang, key)) + "\n"
    text = opt.lit(text + "\t")
    text += "".join(cell.format(f["name"]) + "\n" for f in fields)
    if opt.history:
        text += cell.format(label(lang, "thist")) + "\n"
    if opt.replies:
        text += cell.format(label(lang, "reply_messages")) + "\n"
    text += cell.format(label(lang, "ticket_url")) + "\n"
    return text + "</Row>\n"


def _local(clock: ExportClock, value: Any) -> str:
    """``hesk_date($dt, true)`` with the export format, for a value MySQL handed over."""
    text = _text(value)
    if not text or text.startswith("0000-00-00"):
        return "-0001-11-30T00:00:00.000"  # what PHP makes of a zero date
    at = value if isinstance(value, datetime) else datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    # MySQL gave the wall clock of the session offset; PHP's round trip may move it.
    local = at.replace(tzinfo=clock.tz).astimezone(UTC).astimezone(clock.tz)
    return f"{local:%Y-%m-%dT%H:%M:%S}.000"


def _date_cell(clock: ExportClock, value: Any, style: str = "s62") -> str:
    return (
        f'<Cell ss:StyleID="{style}"><Data ss:Type="DateTime">{_local(clock, value)}</Data></Cell>'
    )


def _s(text: str) -> str:
    return f'<Cell><Data ss:Type="String"><![CDATA[{escape_cdata(text)}]]></Data></Cell>'


def _row(
    db: _Db,
    t: dict[str, Any],
    opt: ExportOptions,
    clock: ExportClock,
    lang: str,
    admins: dict[int, str],
    cats: dict[int, str],
    fields: list[dict[str, Any]],
    statuses: dict[int, str],
    priorities: dict[int, str],
) -> str:
    customers = db.query(
        "SELECT `customers`.`id`, `customers`.`name`, `customers`.`email`, "
        "`customers`.`language`, `ticket_to_customer`.`customer_type` FROM `{p}customers` "
        "`customers` INNER JOIN `{p}ticket_to_customer` `ticket_to_customer` ON "
        "`customers`.`id` = `ticket_to_customer`.`customer_id` "
        "WHERE `ticket_to_customer`.`ticket_id` = %s",
        (int(t["id"]),),
    )
    requester: dict[str, Any] | None = None
    followers = []
    for c in customers:
        c["email"] = c["email"] or ""
        if c["customer_type"] == "REQUESTER":
            requester = c
        elif c["customer_type"] == "FOLLOWER":
            followers.append(c)
    if requester is None:
        requester = {"name": label(lang, "anon_name"), "email": label(lang, "anon_email")}
    shown = [
        (f"{f['name']} <{f['email']}>" if f["email"] else f["name"]) if f["name"] else f["email"]
        for f in followers
    ]
    e = opt.eol  # a line end of the PHP literal (values keep their own)
    out = (
        f'{e}<Row>{e}<Cell><Data ss:Type="Number">{t["id"]}</Data></Cell>{e}'
        + _s(_text(t["trackid"]))
        + e
        + _date_cell(clock, t["dt"])
        + e
        + _date_cell(clock, t["lastchange"])
        + e
    )
    for column in ("firstreply", "closedat"):
        out += (
            _date_cell(clock, t[column])
            if t.get(column)
            else '<Cell><Data ss:Type="String"></Data></Cell>'
        ) + "\n"
    out += "".join(
        _s(v) + e
        for v in (
            msg_to_plain(_text(requester["name"])),
            _text(requester["email"]),
            ",".join(shown),
            cats.get(t["category"], ""),
            priorities.get(t["priority"], "Unknown"),
            statuses.get(t["status"], "Unknown"),
            msg_to_plain(_text(t["subject"])),
            msg_to_plain(_text(t["message"])),
            admins.get(t["owner"], ""),
        )
    )
    out += (
        f'<Cell><Data ss:Type="Number">{t["replies"]}</Data></Cell>{e}'
        f'<Cell><Data ss:Type="Number">{t["staffreplies"]}</Data></Cell>{e}'
        + _s(_text(t["time_worked"]))
        + e
    )
    due = t.get("due_date")
    out += (
        _date_cell(clock, due, "s63") if due else '<Cell><Data ss:Type="String"></Data></Cell>'
    ) + "\n"
    for f in fields:
        value = _text(t.get(f["key"]))
        if f["type"] == "date":
            day = (
                datetime.fromtimestamp(int(float(value)), UTC).strftime("%Y-%m-%dT00:00:00.000")
                if value.strip()
                else ""
            )
            out += (
                '<Cell ss:StyleID="s63"><Data ss:Type="DateTime">' + day
                if day
                else '<Cell><Data ss:Type="String">'
            ) + "</Data></Cell> \n"
        else:
            out += _s(msg_to_plain(value)) + "  \n"
    if opt.history:
        out += _s(_text(t["history"])) + "\n"
    if opt.replies:
        out += '<Cell><Data ss:Type="String"><![CDATA['
        if t["replies"]:
            out += _replies(db, t, opt, clock, lang)
        out += "]]></Data></Cell>\n"
    track = _urlencode(_text(t["trackid"]))
    link = f"{opt.hesk_url}/ticket.php?track={track}"
    if opt.email_view_ticket:
        link += f"&amp;e={_urlencode(_text(requester['email']))}"
    return out + f'<Cell><Data ss:Type="String">{link}</Data></Cell></Row>\n'


def _replies(db: _Db, t: dict[str, Any], opt: ExportOptions, clock: ExportClock, lang: str) -> str:
    rows = db.query(
        "SELECT `replies`.*, `customers`.`name` AS `customer_name`, `customers`.`email` AS "
        "`customer_email`, `users`.`name` AS `staff_name` FROM `{p}replies` AS `replies` "
        "LEFT JOIN `{p}customers` AS `customers` ON `customers`.`id` = `replies`.`customer_id` "
        "LEFT JOIN `{p}users` AS `users` ON `users`.`id` = `replies`.`staffid` "
        "WHERE `replyto`=%s ORDER BY `id` " + ("DESC" if opt.new_top else "ASC"),
        (int(t["id"]),),
    )
    text = ""
    for r in rows:
        if r["staffid"]:
            name = label(lang, "staff_deleted") if r["staff_name"] is None else r["staff_name"]
        elif r["customer_name"] is None or r["customer_name"] == "":
            name = r["customer_email"] if r["customer_email"] else label(lang, "anon_name")
        else:
            name = r["customer_name"]
        when = _local(clock, r["dt"])
        text += escape_cdata(
            f"{label(lang, 'reply_by')} {name}\n{label(lang, 'date')} "
            f"{when}\n{msg_to_plain(_text(r['message']))}\n---\n"
        )
    return text


def _urlencode(text: str) -> str:
    """PHP ``urlencode`` (spaces as ``+``)."""
    from urllib.parse import quote_plus

    return quote_plus(text, safe="-_.")
