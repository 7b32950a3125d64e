"""Categories -> teams (linked, never created) or, as the map's fallback, a tag."""

from __future__ import annotations

from hesk.records import Category
from mapping.common import completion, disposition, entry, identity
from mapping.steps import LookupKind, Plan, Step, UnitContext


def plan_category(cat: Category, ctx: UnitContext) -> Plan:
    """Link a category to its team, or create its fallback tag (``POST /tags``)."""
    item = entry(ctx.map, "categories", cat.id)
    if item is None:
        return Plan(
            dispositions=(
                disposition(
                    cat,
                    "quarantined",
                    "category is not in the confirmed map: run map propose again",
                ),
            )
        )
    if item.get("team"):
        team_id = ctx.teams.get(cat.source_id)
        if not team_id:
            return Plan(
                dispositions=(
                    disposition(
                        cat,
                        "quarantined",
                        f"team {item['team']!r} not found in Intercom: create it or map a tag",
                    ),
                )
            )
        return Plan(
            dispositions=(
                disposition(cat, "migrated", f"linked to team {item['team']}", str(team_id)),
            )
        )
    body = {"name": str(item.get("tag") or f"Hesk: {cat.name}")}
    step = Step(
        op="create",
        method="POST",
        path="/tags",
        body=body,
        identity_hash=identity(body),
        lookup={"name": body["name"]},
        lookup_kind=LookupKind.TAG,
        creates="tag",
        completes=(completion(cat, f"no team: conversations tagged {body['name']!r}"),),
    )
    return Plan(steps=(step,))
