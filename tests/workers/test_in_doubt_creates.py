"""Created or matched, one write at a time: what existed is linked, an in-doubt create is
ours only when proven.

A worker killed right after sending a create (its answer never recorded) or right before
is reproduced exactly: the intent is durable, the outcome is not, and the next run of the
unit settles the write by lookup.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from pydantic import SecretStr

from core.settings import load_settings
from engine.protocol import Outcome, UnitRun, run_step
from engine.resources import Resources
from engine.units import unit_session
from intercom_api.errors import IntercomError
from ledger.events import WriteIntended, WriteResolved, WriteSucceeded
from ledger.keys import write_key
from mapping.common import identity
from mapping.people import contact_step, external_id
from mapping.steps import Step
from simulator.testing import SimulatorHandle
from tests.helpers.simulator import TOKEN


class Killed(BaseException):
    """The worker dies (kill -9): nothing after this point is recorded."""


@pytest.fixture
def res(sim: SimulatorHandle, ledger_url: str) -> Iterator[Resources]:
    sim.reset()
    settings = load_settings(
        ledger_url=ledger_url,
        intercom_base_url=sim.base_url,
        intercom_token=SecretStr(TOKEN),
        migration=f"owned-{uuid.uuid4().hex[:8]}",
    )
    resources = Resources.from_settings(settings)
    yield resources
    resources.close()


def _step(path: str, body: dict[str, Any], kind: str, creates: str) -> Step:
    return Step(
        op="create",
        method="POST",
        path=path,
        body=body,
        identity_hash=identity(body),
        lookup={},
        lookup_kind=kind,
        creates=creates,
    )


def tag(name: str) -> Step:
    return _step("/tags", {"name": name}, "tag", "tag")


def attribute(name: str, data_type: str = "string") -> Step:
    body = {"name": name, "data_type": data_type}
    return _step(
        "/conversations/attributes", body, "conversation_attribute", "conversation_attribute"
    )


def collection(name: str) -> Step:
    return _step("/help_center/collections", {"name": name}, "collection", "collection")


def article(title: str, parent: str, author: str) -> Step:
    body = {
        "title": title,
        "body": "<p>From Hesk.</p>",
        "author_id": int(author),
        "state": "published",
        "parent_id": int(parent),
        "parent_type": "collection",
    }
    return _step("/articles", body, "article", "article")


@contextmanager
def dies(res: Resources, *, after_sending: bool) -> Iterator[None]:
    """The worker dies at its next write: right after sending it, or right before."""
    client = res.client
    real = client.request

    def request(method: str, path: str, **kwargs: Any) -> Any:
        if method != "POST":
            return real(method, path, **kwargs)
        if after_sending:
            with contextlib.suppress(IntercomError):  # refused or not: it never learns
                real(method, path, **kwargs)
        raise Killed

    client.request = request  # type: ignore[method-assign]  # the write dies mid-call, like a killed worker
    try:
        yield
    finally:
        del client.request


def run(res: Resources, obj: str, source_id: str, step: Step, **options: float) -> Outcome:
    """One run of a unit of one step, as a worker runs it (lock, load, write, flush);
    ``options`` go to ``run_step`` (``landing_margin=``)."""
    with unit_session(res, obj, source_id) as (got, conn):
        assert got
        unit = UnitRun.load(res, obj, source_id, conn=conn)
        outcome = run_step(unit, step, step.path, step.body, **options)
        unit.flush()
    return outcome


def killed_run(
    res: Resources, obj: str, source_id: str, step: Step, *, after_sending: bool
) -> None:
    with dies(res, after_sending=after_sending), pytest.raises(Killed):
        run(res, obj, source_id, step)


def resolved(res: Resources, obj: str, source_id: str) -> list[WriteResolved]:
    return [
        r.event
        for r in res.ledger.read(objects=[obj], source_id=source_id)
        if isinstance(r.event, WriteResolved)
    ]


def posts(sim: SimulatorHandle, operation: str) -> int:
    return sum((sim.stats()["requests"].get(operation) or {}).values())


def test_what_exists_is_linked_and_nothing_is_sent(res: Resources, sim: SimulatorHandle) -> None:
    made = sim.seed(
        tags=[{"name": "Hesk: Billing"}],
        collections=[{"name": "FAQ"}],
        conversation_attributes=[{"name": "hesk_trackid", "data_type": "string"}],
    )
    cases = [
        ("category", "1", tag("HESK: billing"), made["tags"][0]),
        ("kb_category", "2", collection("FAQ"), made["collections"][0]),
        (
            "custom_field",
            "builtin:hesk_trackid",
            attribute("hesk_trackid"),
            made["conversation_attributes"][0],
        ),
    ]
    for obj, source_id, step, existing in cases:
        outcome = run(res, obj, source_id, step)
        assert outcome.ok and not outcome.created and outcome.intercom_id == existing["id"]
        assert run(res, obj, source_id, step) == outcome  # settled: not looked up again
        (linked,) = [
            r.event
            for r in res.ledger.read(objects=[obj], source_id=source_id)
            if isinstance(r.event, WriteSucceeded)
        ]
        assert not linked.created and "existed before" in linked.detail["matched"]
    for operation in (
        "POST /tags",
        "POST /help_center/collections",
        "POST /conversations/attributes",
    ):
        assert posts(sim, operation) == 0  # POST /tags would answer the existing tag
    # a same-named attribute of another type is neither linked nor created
    refused = run(res, "custom_field", "7", attribute("hesk_trackid", "integer"))
    assert refused.failed and "already exists as string" in refused.failed
    assert posts(sim, "POST /conversations/attributes") == 0


def test_a_create_killed_after_it_landed_is_proven_ours(
    res: Resources, sim: SimulatorHandle
) -> None:
    made = sim.seed(
        collections=[{"name": "Guides"}],
        articles=[
            {
                "title": "Reset a password",
                "parent_name": "Guides",
                "author_id": int(sim.owner_admin_id),
                "body": "<p>The customer's own.</p>",
            }
        ],
    )
    guides = made["collections"][0]["id"]
    owner = sim.owner_admin_id
    for obj, source_id, step, kind in (
        ("category", "3", tag("Hesk: Returns"), "tags"),
        ("custom_field", "4", attribute("hesk_priority_note"), "conversation_attributes"),
        ("kb_category", "5", collection("Billing"), "collections"),
        ("kb_article", "6", article("Reset a password", guides, owner), "articles"),
    ):
        before = {str(o["id"]) for o in sim.dump()[kind]}
        killed_run(res, obj, source_id, step, after_sending=True)
        made_now = [o for o in sim.dump()[kind] if str(o["id"]) not in before]
        assert len(made_now) == 1, kind  # the write landed; the worker never knew
        outcome = run(res, obj, source_id, step)
        assert outcome.created and outcome.intercom_id == str(made_now[0]["id"]), kind
        (settled,) = resolved(res, obj, source_id)
        assert settled.created and settled.detail["proof"], kind
        assert {str(o["id"]) for o in sim.dump()[kind]} == before | {outcome.intercom_id}
    # the customer's article with the same title was never taken for ours
    assert made["articles"][0] in sim.dump()["articles"]


def test_a_create_killed_before_it_was_sent_never_takes_the_customers_object(
    res: Resources, sim: SimulatorHandle
) -> None:
    made = sim.seed(
        collections=[{"name": "Guides"}],
        articles=[
            {
                "title": "Reset a password",
                "parent_name": "Guides",
                "author_id": int(sim.owner_admin_id),
            }
        ],
    )
    step = article("Reset a password", made["collections"][0]["id"], sim.owner_admin_id)
    killed_run(res, "kb_article", "8", step, after_sending=False)
    outcome = run(res, "kb_article", "8", step, landing_margin=-10_000.0)  # the intent is old
    (miss,) = resolved(res, "kb_article", "8")
    assert not miss.found  # the customer's same-titled article is not ours
    articles = sim.dump()["articles"]
    assert made["articles"][0] in articles and len(articles) == 2
    assert outcome.created and outcome.intercom_id != made["articles"][0]["id"]
    assert [
        e.intent_key
        for r in res.ledger.read(objects=["kb_article"])
        if isinstance(e := r.event, WriteSucceeded)
    ] == [write_key("create", "kb_article", "8", step.identity_hash, 2)]


def test_an_in_doubt_contact_is_ours_only_with_this_migrations_mark(
    res: Resources, sim: SimulatorHandle
) -> None:
    mine, customer, other = (
        f"{n}-{uuid.uuid4().hex[:6]}@example.com" for n in ("mine", "customer", "other")
    )
    made = sim.seed(
        contacts=[
            {"email": customer.upper(), "name": "Existed before"},
            {"email": other, "external_id": external_id(other, "m0a0b0c0d0e"), "name": "Another"},
        ]
    )
    for email, existing in ((customer, made["contacts"][0]), (other, made["contacts"][1])):
        step = contact_step(
            {"role": "user", "external_id": external_id(email, res.mark()), "email": email}, ()
        )
        killed_run(res, "contact", email, step, after_sending=True)  # answered 409, lost
        outcome = run(res, "contact", email, step)
        assert outcome.intercom_id == existing["id"] and not outcome.created
        (settled,) = resolved(res, "contact", email)
        assert settled.found and not settled.created and settled.detail["matched"]
    step = contact_step(
        {"role": "user", "external_id": external_id(mine, res.mark()), "email": mine}, ()
    )
    killed_run(res, "contact", mine, step, after_sending=True)
    outcome = run(res, "contact", mine, step)
    assert outcome.created
    (settled,) = resolved(res, "contact", mine)
    assert settled.detail["proof"] == "carries this migration's mark"
    assert {c["id"] for c in sim.dump()["contacts"]} == {
        made["contacts"][0]["id"],
        made["contacts"][1]["id"],
        outcome.intercom_id,
    }


def test_an_intent_without_a_precheck_is_settled_as_matched(
    res: Resources, sim: SimulatorHandle
) -> None:
    """An intent an older version recorded (no pre-check): a name proves nothing."""
    existing = sim.seed(tags=[{"name": "Hesk: Old"}])["tags"][0]
    step = tag("Hesk: Old")
    unit = UnitRun(res, "category", "9")
    unit.flush(
        WriteIntended(
            object="category",
            source_id="9",
            operation=step.op,
            content_hash=step.identity_hash,
            attempt=1,
            target={"method": "POST", "path": "/tags", "creates": "tag"},
        )
    )
    outcome = run(res, "category", "9", step)
    assert outcome.intercom_id == existing["id"] and not outcome.created
