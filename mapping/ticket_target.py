"""Intercom tickets as the target (the map's ``target: tickets``): pure planning.

Set-up (the ``workspace`` unit): find or create one ticket type (category Customer, named
by the map) and its attributes — the always-created Hesk attributes, the category, the
history (multiline, unless the map asks for a note) and every mapped custom field with its
typed data type. What exists is linked (``find_first``), never created again.

A Hesk ticket is one Intercom ticket: ``create`` (contact, ``created_at``, title, the first
message as description, every attribute, admin and team assignment) -> the first
message's files in an admin note -> every reply and note in Hesk's order -> one ``PUT`` of
the final state, only where it differs from the state the ticket already has. Every write
carries ``skip_notifications``.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from typing import Any

from core.intercom_limits import ATTRIBUTE_DESCRIPTION_MAX, TICKET_TITLE_MAX
from hesk.records import Attachment, CustomFieldDefinition, Note, Reply, Ticket
from mapping.attributes import custom_attribute_values, plan_custom_field
from mapping.common import dep_key, disposition, entry, identity, option, unix
from mapping.defaults import (
    CATEGORY_ATTR,
    DEFAULT_TARGET,
    HISTORY_ATTR,
    IP_ATTR,
    MERGED_ATTR,
    PRIORITY_ATTR,
    TICKET_ID_ATTR,
    TICKET_TYPE_NAME,
    TRACKID_ATTR,
    builtin_attributes,
    field_migrates,
)
from mapping.steps import UNIT_ID, Completion, LookupKind, Plan, Step, UnitContext
from mapping.text import escape, to_plain
from mapping.tickets import (
    _closed,
    _priority_label,
    _settle_all,
    finish,
    history_note_step,
    start_thread,
    thread_steps,
)

#: The set-up's records: the ticket type, and (as for conversations) ``custom_field``
#: ``builtin:<name>`` for the always-created attributes.
TYPE_KEY = dep_key("ticket_type", "type")
MARKER_KEY = dep_key("custom_field", f"builtin:{TRACKID_ATTR}")
TITLE = "_default_title_"
DESCRIPTION = "_default_description_"
#: Hesk's built-in statuses -> the category of the Intercom state proposed for them.
STATUS_CATEGORIES = {
    0: "submitted",
    1: "in_progress",
    2: "waiting_on_customer",
    3: "resolved",
    4: "in_progress",
    5: "in_progress",
}


# --------------------------------------------------------------------------- the map


def target_of(the_map: Mapping[str, Any] | None) -> str:
    """The map's target: ``conversations`` (the default) or ``tickets``."""
    return str((the_map or {}).get("target") or DEFAULT_TARGET)


def is_tickets(the_map: Mapping[str, Any] | None) -> bool:
    """Whether the map moves tickets to Intercom tickets."""
    return target_of(the_map) == "tickets"


def ticket_settings(the_map: Mapping[str, Any]) -> dict[str, str]:
    """The map's ``tickets`` section with its defaults: ``type_name`` and ``history``."""
    section = the_map.get("tickets") or {}
    return {
        "type_name": str(section.get("type_name") or TICKET_TYPE_NAME),
        "history": str(section.get("history") or "attribute"),
    }


def ticket_attribute_items(the_map: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Every attribute the ticket type needs: ``{name, data_type, options, multiline,
    description, visible, source}`` (``source``: the ``custom_field`` source id it settles).
    """
    migrate_ip = bool((the_map.get("options") or {}).get("migrate_ip"))
    items: list[dict[str, Any]] = []
    builtins = list(the_map.get("attributes") or builtin_attributes(migrate_ip=migrate_ip))
    if migrate_ip and all(b.get("name") != IP_ATTR for b in builtins):
        builtins += [b for b in builtin_attributes(migrate_ip=True) if b["name"] == IP_ATTR]
    extra: list[dict[str, Any]] = [
        {"name": CATEGORY_ATTR, "data_type": "string", "description": "Hesk category"}
    ]
    if ticket_settings(the_map)["history"] == "attribute":
        extra.append(
            {
                "name": HISTORY_ATTR,
                "data_type": "string",
                "multiline": True,
                "description": "Hesk ticket history (times in UTC)",
            }
        )
    for b in [*builtins, *extra]:
        items.append(
            {
                "name": str(b["name"]),
                "data_type": b["data_type"],
                "options": list(b.get("options") or []),
                "multiline": bool(b.get("multiline")),
                "description": str(b.get("description") or ""),
                "visible": False,
                "source": f"builtin:{b['name']}",
            }
        )
    for f in the_map.get("custom_fields") or ():
        if not field_migrates(f, dict(the_map)) or not f.get("attribute"):
            continue
        items.append(
            {
                "name": str(f["attribute"]),
                "data_type": f.get("data_type") or "string",
                "options": list(f.get("options") or []),
                "multiline": f.get("hesk_type") == "textarea",
                "description": f"Hesk custom field {f.get('hesk_name')}",
                "visible": not f.get("staff_only"),
                "source": str(f["hesk_id"]),
            }
        )
    return items


def attribute_body(item: Mapping[str, Any]) -> dict[str, Any]:
    """The ``POST /ticket_types/{id}/attributes`` body of one attribute item."""
    description = item.get("description") or f"Hesk {item['name']}"
    body: dict[str, Any] = {
        "name": item["name"],
        "description": description[:ATTRIBUTE_DESCRIPTION_MAX],
        "data_type": item["data_type"],
        "required_to_create": False,
        "visible_to_contacts": bool(item.get("visible")),
    }
    if item["data_type"] == "list":
        body["list_items"] = ",".join(str(o) for o in item.get("options") or [])
    if item["data_type"] == "string" and item.get("multiline"):
        body["multiline"] = True
    return body


# --------------------------------------------------------------------------- states


def propose_ticket_state(
    status_id: int, name: str, states: Sequence[Mapping[str, Any]]
) -> tuple[str | None, str]:
    """``(internal label, reason)`` of the Intercom state proposed for a Hesk status."""
    live = [s for s in states if not s.get("archived")]
    for state in live:
        if str(state.get("internal_label") or "").casefold() == name.casefold():
            return str(state["internal_label"]), "state with the same name"
    best, score = None, 0.0
    for state in live:
        ratio = difflib.SequenceMatcher(
            None, name.casefold(), str(state.get("internal_label") or "").casefold()
        ).ratio()
        if ratio > score:
            best, score = state, ratio
    if best is not None and score >= 0.85:
        return str(best["internal_label"]), f"state with a similar name ({score:.2f})"
    category = STATUS_CATEGORIES.get(status_id)
    if category is not None:
        found = next((s for s in live if s.get("category") == category), None)
        if found is not None:
            return str(found["internal_label"]), f"Hesk's {name} is Intercom's {category}"
    return None, "no similar state (states cannot be created by the API): choose one"


def _state_by_label(states: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = {}
    for s in states:
        if not s.get("archived"):
            out.setdefault(str(s.get("internal_label") or "").casefold(), s)
            out.setdefault(str(s.get("id")), s)
    return out


def default_state(states: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The state a new ticket has: the first unarchived *submitted* state."""
    return next(
        (s for s in states if s.get("category") == "submitted" and not s.get("archived")), None
    )


def resolve_ticket_states(
    the_map: Mapping[str, Any], states: Sequence[Mapping[str, Any]]
) -> dict[str, Any]:
    """Hesk status id -> ticket state id, and the default state's id (for ``resolved``)."""
    by_label = _state_by_label(states)
    out: dict[str, str] = {}
    for item in the_map.get("statuses") or ():
        found = by_label.get(str(item.get("ticket_state") or "").casefold())
        if found is not None:
            out[str(item["hesk_id"])] = str(found["id"])
    first = default_state(states)
    return {"ticket_states": out, "default_ticket_state_id": str(first["id"]) if first else ""}


def setup_check(
    the_map: Mapping[str, Any],
    ticket_types: Sequence[Mapping[str, Any]],
    states: Sequence[Mapping[str, Any]],
) -> dict[str, list[str]]:
    """What preflight says of the tickets target: ``blockers``, ``to_create``, ``matched``."""
    out: dict[str, list[str]] = {"blockers": [], "to_create": [], "matched": []}
    by_label = _state_by_label(states)
    labels = ", ".join(
        sorted({str(s.get("internal_label")) for s in states if not s.get("archived")})
    )
    for item in the_map.get("statuses") or ():
        wanted = item.get("ticket_state")
        if not wanted or str(wanted).casefold() not in by_label:
            shown = f"{wanted!r} does not exist" if wanted else "no ticket state"
            out["blockers"].append(
                f"status {item.get('hesk_name')!r} (Hesk id {item.get('hesk_id')}): {shown} — "
                f"set statuses.ticket_state to one of: {labels} (states cannot be created by "
                "the API)"
            )
    if default_state(states) is None:
        out["blockers"].append("the workspace has no submitted ticket state for new tickets")
    name = ticket_settings(the_map)["type_name"]
    found = next(
        (
            t
            for t in ticket_types
            if not t.get("archived") and str(t.get("name") or "").casefold() == name.casefold()
        ),
        None,
    )
    if found is None:
        out["to_create"].append(f"ticket type {name} (Customer)")
    else:
        out["matched"].append(f"ticket type {name} -> existing id {found.get('id')}")
    existing: dict[str, Mapping[str, Any]] = {}
    if found is not None:
        block = found.get("ticket_type_attributes") or []
        attrs = block.get("data", []) if isinstance(block, dict) else block
        existing = {str(a.get("name") or "").casefold(): a for a in attrs}
    for item in ticket_attribute_items(the_map):
        have = existing.get(item["name"].casefold())
        if have is None:
            out["to_create"].append(f"ticket attribute {item['name']} ({item['data_type']})")
        elif have.get("data_type") != item["data_type"]:
            out["blockers"].append(
                f"ticket attribute {item['name']!r} already exists on {name!r} as "
                f"{have.get('data_type')}, not {item['data_type']}: rename it in the map"
            )
        else:
            out["matched"].append(f"ticket attribute {item['name']} -> existing")
    return out


# --------------------------------------------------------------------------- set-up


def plan_ticket_setup(ctx: UnitContext, field_hashes: Mapping[str, str]) -> Plan:
    """Find or create the ticket type, then each of its attributes (in the type).

    ``field_hashes``: custom field id -> the captured record's content hash, so the step
    that makes a field's attribute settles that record.
    """
    name = ticket_settings(ctx.map)["type_name"]
    type_body = {"name": name, "category": "Customer", "is_internal": False}
    steps = [
        Step(
            op="ticket_type",
            method="POST",
            path="/ticket_types",
            body=type_body,
            identity_hash=identity(type_body),
            lookup={"name": name},
            lookup_kind=LookupKind.TICKET_TYPE,
            creates="ticket_type",
            find_first=True,
            completes=(Completion("ticket_type", "type", identity(type_body)),),
        )
    ]
    for item in ticket_attribute_items(ctx.map):
        body = attribute_body(item)
        source = item["source"]
        digest = identity(body) if source.startswith("builtin:") else field_hashes.get(source)
        done = (Completion("custom_field", source, digest),) if digest else ()
        steps.append(
            Step(
                op=f"ticket_attribute:{item['name']}",
                method="POST",
                path=f"/ticket_types/{UNIT_ID}/attributes",
                body=body,
                identity_hash=identity(body),
                lookup={"name": item["name"], "data_type": item["data_type"]},
                lookup_kind=LookupKind.TICKET_TYPE_ATTRIBUTE,
                creates="ticket_type_attribute",
                find_first=True,
                completes=done,
            )
        )
    return Plan(steps=tuple(steps))


def plan_ticket_field(defn: CustomFieldDefinition, ctx: UnitContext) -> Plan:
    """A custom field under the tickets target: a mapped one is settled by the set-up
    (its ticket type attribute); the rest as for conversations (skipped, quarantined)."""
    item = entry(ctx.map, "custom_fields", defn.id)
    if item is not None and field_migrates(item, ctx.map) and item.get("attribute"):
        return Plan()
    return plan_custom_field(defn, ctx)


# --------------------------------------------------------------------------- a ticket


def _history_text(ticket: Ticket, problems: Sequence[str]) -> str:
    lines: list[str] = []
    if ticket.history:
        lines.append("Hesk ticket history (times in UTC)")
        for e in sorted(ticket.history, key=lambda e: e.index):
            if e.at is not None:
                lines.append(f"{e.at:%Y-%m-%d %H:%M} UTC — {e.text.strip()}")
            else:
                lines.append(f"(date not understood) {e.raw.strip() or e.text}")
    if problems:
        if lines:
            lines.append("")
        lines.append("Hesk values that did not fit their Intercom attribute:")
        lines += [f"- {p}" for p in problems]
    return "\n".join(lines)


def _attributes(
    ticket: Ticket, ctx: UnitContext, notes: list[str]
) -> tuple[dict[str, Any], list[str]]:
    """``(ticket_attributes without title/description, problems)``."""
    items = {i["name"]: i for i in ticket_attribute_items(ctx.map)}
    values: dict[str, Any] = {}
    id_type = items.get(TICKET_ID_ATTR, {}).get("data_type", "integer")
    values[TICKET_ID_ATTR] = ticket.id if id_type == "integer" else str(ticket.id)
    values[TRACKID_ATTR] = marker(ticket)
    label = _priority_label(ticket, ctx)
    problems: list[str] = []
    if label in (items.get(PRIORITY_ATTR, {}).get("options") or []):
        values[PRIORITY_ATTR] = label
    else:
        problems.append(f"priority: {label!r} is not an item of {PRIORITY_ATTR}")
    if ticket.merged_trackids:
        values[MERGED_ATTR] = ", ".join(ticket.merged_trackids)
    if option(ctx, "migrate_ip") and ticket.ip and ticket.ip != "0.0.0.0":
        values[IP_ATTR] = ticket.ip
    if ticket.category_name:
        values[CATEGORY_ATTR] = ticket.category_name
    custom, bad = custom_attribute_values(ticket.custom_fields, ctx)
    values.update(custom)
    problems += bad
    notes.extend(f"not set as an attribute (kept in the history): {p}" for p in problems)
    return values, problems


def expected_attributes(ticket: Ticket, the_map: Mapping[str, Any]) -> dict[str, Any]:
    """The attributes (besides title, description and history) a ticket should carry:
    what its create or its last update sets, for ``verify``."""
    values, _problems = _attributes(ticket, UnitContext(map=dict(the_map)), [])
    return values


def marker(ticket: Ticket) -> str:
    """The ticket's lookup marker: its Hesk tracking id (``hesk-<id>`` when it has none)."""
    return ticket.trackid.strip() or f"hesk-{ticket.id}"


def _assignment(ticket: Ticket, ctx: UnitContext, notes: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    if ticket.owner_id is not None and ctx.admins.get(str(ticket.owner_id)):
        out["admin_assignee_id"] = str(ctx.admins[str(ticket.owner_id)])
    item = entry(ctx.map, "categories", ticket.category_id)
    cat = str(ticket.category_id)
    if ticket.category_name is not None and item is not None and item.get("team"):
        team = ctx.teams.get(cat) or ctx.ids.get(dep_key("category", cat))
        if team:
            out["team_assignee_id"] = str(team)
        else:
            notes.append(f"team {item['team']!r} not found: not assigned")
    return out


def _update_steps(
    ticket: Ticket,
    admin: str,
    attrs: Mapping[str, Any],
    content: Mapping[str, str],
    written: Mapping[str, str] | None,
    history_done: Sequence[Completion],
    notes: list[str],
) -> list[Step]:
    """``PUT /tickets/{id}`` of what changed in Hesk since the ticket was written: its
    attributes (title, description, priority, category, custom fields, history) and its
    admin or team assignee. Nothing before the ticket is created, nor when nothing changed.

    The key is the new content's hash with the ticket's version (``lastchange``): an edit
    is written once, and an edit back to an earlier content is written again.
    """
    if written is None:
        return []
    attrs_changed = written.get("attributes") != content["attributes"]
    # A ticket written before writes said what they set: its assignees are the create's.
    team = content["team"] if "team" in written and written["team"] != content["team"] else None
    who = content["admin"] if "admin" in written and written["admin"] != content["admin"] else None
    if team == "":
        notes.append("the category has no team any more: the team assignee is kept")
        team = None
    if not attrs_changed and team is None and who is None:
        return []
    version = {"updated_at": unix(ticket.updated_at)}
    steps: list[Step] = []
    body: dict[str, Any] = {"admin_id": admin, "skip_notifications": True}
    sets: dict[str, str] = {}
    if attrs_changed:
        body["ticket_attributes"] = dict(attrs)
        sets["attributes"] = content["attributes"]
    if team is not None:
        body["assignee_id"], sets["team"] = team, team
    elif who is not None:
        body["assignee_id"], sets["admin"] = who or "0", who  # "0": unassigned
        who = None
    steps.append(
        Step(
            op="update",
            method="PUT",
            path=f"/tickets/{UNIT_ID}",
            body=body,
            identity_hash=identity({**body, **version}),
            lookup={},
            lookup_kind=LookupKind.IDEMPOTENT,
            completes=tuple(history_done) if attrs_changed else (),
            sets=sets,
        )
    )
    if who is not None:  # the team and the admin both changed: one assignee per PUT
        assign = {"admin_id": admin, "assignee_id": who or "0", "skip_notifications": True}
        steps.append(
            Step(
                op="assign",
                method="PUT",
                path=f"/tickets/{UNIT_ID}",
                body=assign,
                identity_hash=identity({**assign, **version}),
                lookup={},
                lookup_kind=LookupKind.IDEMPOTENT,
                sets={"admin": who},
            )
        )
    return steps


def _tag_step(ticket: Ticket, ctx: UnitContext, admin: str) -> Step | None:
    """The category's tag on the ticket (``POST /tickets/{id}/tags``), as conversations get
    it: for a category the map gives a tag rather than a team."""
    if ticket.category_name is None:
        return None
    item = entry(ctx.map, "categories", ticket.category_id)
    if item is None or item.get("team"):
        return None
    cat = str(ticket.category_id)
    tag = ctx.tags.get(cat) or ctx.ids.get(dep_key("category", cat))
    if not tag:
        return None
    body = {"id": str(tag), "admin_id": admin}
    return Step(
        op="tag",
        method="POST",
        path=f"/tickets/{UNIT_ID}/tags",
        body=body,
        identity_hash=identity(body),
        lookup={},
        lookup_kind=LookupKind.IDEMPOTENT,
    )


def state_of(ticket: Ticket, ctx: UnitContext, notes: list[str]) -> tuple[str, bool]:
    """``(ticket state id, open)`` the ticket should end in (per the map)."""
    resolved = ctx.map.get("resolved") or {}
    state = str((resolved.get("ticket_states") or {}).get(str(ticket.status)) or "")
    if not state:
        notes.append(f"status {ticket.status_name!r} has no ticket state: default state kept")
        state = str(resolved.get("default_ticket_state_id") or "")
    return state, not _closed(ticket, ctx)


def state_op(state_id: str, is_open: bool) -> str:
    """The op of a state write (``state:<id>:open|closed``): its target is in its name."""
    return f"state:{state_id}:{'open' if is_open else 'closed'}"


def plan_ticket_as_ticket(
    ticket: Ticket,
    replies: Sequence[Reply],
    notes: Sequence[Note],
    attachments: Sequence[Attachment],
    ctx: UnitContext,
    *,
    last_state: str | None = None,
    written: Mapping[str, str] | None = None,
) -> Plan:
    """The Intercom ticket of a Hesk ticket with its replies, notes, files and history.

    ``last_state``: the op (``state:<id>:open|closed``) of the last state written to this
    ticket, None when none was (it then has the default state, open). ``written``: what
    the ticket's create and updates left on it (``ledger.conversation_state.
    ticket_content_written``), None while it is not created: an edit since is one update.
    """
    start = start_thread(ticket, replies, notes, attachments, ctx, target="tickets")
    if isinstance(start, Plan):
        return start
    th, hist = start.th, start.hist
    children = [*replies, *notes, *attachments, hist]
    type_id, marker_id = ctx.ids.get(TYPE_KEY), ctx.ids.get(MARKER_KEY)
    if not type_id or not marker_id:
        return _settle_all(
            ticket, children, "quarantined", "the ticket type is not set up yet: run migrate again"
        )

    attrs, problems = _attributes(ticket, ctx, th.notes)
    first = to_plain(ticket.message_html) or ticket.message_text.strip() or "(no message)"
    subject = " ".join(ticket.subject.split())
    if subject:
        title = subject
        if len(subject) > TICKET_TITLE_MAX:
            title = subject[: TICKET_TITLE_MAX - 1].rstrip() + "…"
            first = f"Full title: {subject}\n\n{first}"
            th.notes.append(
                f"title cut to {TICKET_TITLE_MAX} characters (full text in the description)"
            )
        attrs[TITLE] = title
    attrs[DESCRIPTION] = first
    history_in_note = ticket_settings(ctx.map)["history"] == "note"
    history_done: list[Completion] = []
    if not history_in_note and (ticket.history or problems):
        attrs[HISTORY_ATTR] = _history_text(ticket, problems)
        if ticket.history:
            history_done.append(Completion(hist.OBJECT, hist.source_id, hist.content_hash))
    assignment = _assignment(ticket, ctx, th.notes)
    content = {
        "attributes": identity(attrs),
        "admin": assignment.get("admin_assignee_id", ""),
        "team": assignment.get("team_assignee_id", ""),
    }
    updates = _update_steps(ticket, th.admin, attrs, content, written, history_done, th.notes)
    done = [] if updates else history_done  # an update settles a history written again
    body: dict[str, Any] = {
        "ticket_type_id": str(type_id),
        "contacts": [{"id": th.contact_id}],
        "ticket_attributes": attrs,
        "skip_notifications": True,
    }
    if th.created_at is not None:
        body["created_at"] = th.created_at
    if assignment:
        body["assignment"] = assignment
    th.steps.append(
        Step(
            op="create",
            method="POST",
            path="/tickets",
            body=body,
            # Only what never changes (as for conversations): a delta never creates it again.
            identity_hash=identity({"ticket": ticket.id, "created_at": unix(ticket.created_at)}),
            lookup={
                "marker_attribute_id": str(marker_id),
                "marker": marker(ticket),
                "contact_id": th.contact_id,
            },
            lookup_kind=LookupKind.TICKET,
            creates="ticket",
            result_id="id",
            completes=tuple(done),
            sets=content,
        )
    )
    tag = _tag_step(ticket, ctx, th.admin)
    if tag is not None:
        th.steps.append(tag)

    thread_steps(start, replies, notes)
    th.steps += updates

    if history_in_note and (ticket.history or problems):
        extra = ""
        if problems:
            extra = (
                "<p>Hesk values that did not fit their Intercom attribute:</p><ul>"
                + "".join(f"<li>{escape(p)}</li>" for p in problems)
                + "</ul>"
            )
        th.steps.append(history_note_step(th, ticket.history, hist, replies, notes, extra))
    if not ticket.history:
        th.dispositions.append(disposition(hist, "skipped", "ticket has no history"))

    state, is_open = state_of(ticket, ctx, th.notes)
    default = str((ctx.map.get("resolved") or {}).get("default_ticket_state_id") or "")
    want = state_op(state, is_open)
    if state and want != (last_state or state_op(default, True)):
        put = {
            "ticket_state_id": state,
            "open": is_open,
            "admin_id": th.admin,
            "skip_notifications": True,
        }
        version = (
            {"updated_at": unix(ticket.updated_at)}
            if is_open
            else {"closed_at": unix(ticket.closed_at)}
        )
        th.steps.append(
            Step(
                op=want,
                method="PUT",
                path=f"/tickets/{UNIT_ID}",
                body=put,
                identity_hash=identity({"state": state, "open": is_open, **version}),
                lookup={},
                lookup_kind=LookupKind.IDEMPOTENT,
            )
        )
    return finish(th)


__all__ = [
    "attribute_body",
    "expected_attributes",
    "is_tickets",
    "plan_ticket_as_ticket",
    "plan_ticket_field",
    "plan_ticket_setup",
    "propose_ticket_state",
    "resolve_ticket_states",
    "setup_check",
    "state_op",
    "target_of",
    "ticket_attribute_items",
    "ticket_settings",
]
