"""The client over real HTTP against the simulator: operations, errors, retries, in-doubt
writes resolved by the lookups, notifications, and secrets kept out of every output."""

from __future__ import annotations

import inspect
import io
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import structlog

from core.errors import ConfigError
from core.logs import configure_logging
from core.settings import Settings
from intercom_api import lookups
from intercom_api.base import RetryPolicy
from intercom_api.client import IntercomClient
from intercom_api.errors import (
    Conflict,
    InDoubt,
    IntercomError,
    NotFound,
    NotSent,
    Unauthorized,
    Unresolvable,
)
from tests.helpers.simulator import simulator_with

T0 = 1_600_000_000


def stats(sim: Any) -> dict[str, Any]:
    return sim.stats()


def dump(sim: Any) -> dict[str, Any]:
    return sim.dump()


def new_user(client: IntercomClient, n: int) -> dict[str, Any]:
    return client.create_contact(
        role="user",
        external_id=f"hesk:customer:{n}",
        email=f"customer{n}@example.test",
        name=f"Customer {n}",
    )


# -- reads, pagination ---------------------------------------------------------------------


def test_me_admins_teams(client: IntercomClient, seeded: dict[str, Any]) -> None:
    assert client.me()["type"] == "admin"
    emails = {a.get("email") for a in client.list_admins()}
    assert {"ada@example.test", "bob@example.test"} <= emails
    assert "Billing" in {t["name"] for t in client.list_teams()}


def test_list_contacts_pages_lazily(client: IntercomClient, sim: Any) -> None:
    created = {new_user(client, n)["id"] for n in range(23)}
    listing = client.list_contacts(per_page=5)
    assert inspect.isgenerator(listing)
    before = stats(sim)["requests"].get("GET /contacts", {}).get("200", 0)
    next(listing)  # one page fetched, not the whole list
    after_first = stats(sim)["requests"]["GET /contacts"]["200"]
    assert after_first - before == 1
    seen = [next(listing)["id"]] + [c["id"] for c in listing]
    assert len(seen) == 22 and len(set(seen)) == 22
    assert stats(sim)["requests"]["GET /contacts"]["200"] - before == 5  # 23 items, 5 per page
    assert set(seen) < created


def test_search_contacts_pages(client: IntercomClient) -> None:
    for n in range(12):
        new_user(client, n)
    hits = list(
        client.search_contacts(
            {"field": "email", "operator": "$", "value": "@example.test"}, per_page=5
        )
    )
    assert len(hits) == 12 and len({h["id"] for h in hits}) == 12


# -- typed errors ----------------------------------------------------------------------------


def test_409_conflict_carries_existing_id(client: IntercomClient) -> None:
    first = new_user(client, 1)
    with pytest.raises(Conflict) as info:
        client.create_contact(role="user", email="CUSTOMER1@example.test")
    assert info.value.existing_id == first["id"]
    assert not info.value.archived


def test_404_not_found(client: IntercomClient) -> None:
    with pytest.raises(NotFound):
        client.get_contact("0" * 24)
    assert client.find_contact_by_external_id("hesk:customer:nope") is None


def test_401_unauthorized_without_token_in_message(
    sim: Any, seeded: Any, quick: RetryPolicy
) -> None:
    wrong = "wrong-token-Hq3f9"
    with (
        IntercomClient(sim.base_url, wrong, retry=quick) as bad,
        pytest.raises(Unauthorized) as info,
    ):
        bad.me()
    assert "H2I_INTERCOM_TOKEN" in str(info.value)
    assert wrong not in str(info.value) and wrong not in repr(info.value)


# -- faults: retries, rate limits, timeouts --------------------------------------------------


def test_5xx_on_gets_is_retried(client: IntercomClient, sim: Any, faults: Any) -> None:
    contact = new_user(client, 1)
    faults(rate_5xx=0.25, seed=1)
    for _ in range(20):
        assert client.get_contact(contact["id"])["id"] == contact["id"]
    assert stats(sim)["faults_injected"]["rate_5xx"] > 0


def test_each_transient_error_is_told_before_its_retry(
    client: IntercomClient, sim: Any, faults: Any
) -> None:
    contact = new_user(client, 2)
    seen: list[str] = []
    faults(rate_5xx=0.3, seed=3)
    for _ in range(20):
        answer = client.request(
            "GET",
            f"/contacts/{contact['id']}",
            on_transient=lambda err: seen.append(type(err).__name__),
        )
        assert answer["id"] == contact["id"]
    assert len(seen) == stats(sim)["faults_injected"]["rate_5xx"] > 0
    assert set(seen) == {"ServerError"}


def test_5xx_on_post_is_in_doubt_and_lookup_says_not_written(
    client: IntercomClient, sim: Any, faults: Any
) -> None:
    faults(rate_5xx=1.0)  # the simulator fails before the handler runs
    with pytest.raises(InDoubt):
        new_user(client, 5)
    faults()
    assert lookups.find_contact(client, external_id="hesk:customer:5") is None


def test_rate_limit_paces_instead_of_failing(sim: Any, quick: RetryPolicy) -> None:
    with (
        simulator_with(rate_limit=20) as small,
        small.client() as raw,
        IntercomClient(small.base_url, small.token, retry=quick) as client,
    ):
        while raw.get("/me").status_code != 429:  # someone else used up the window
            pass
        # a 429 was not processed, so even a POST is retried (after the reset), and only once
        assert new_user(client, 0)["external_id"] == "hesk:customer:0"
        assert small.stats()["rate_limited"] >= 1 + 1  # ours and the raw client's

        before = small.stats()["rate_limited"]
        t0 = time.monotonic()
        for n in range(1, 60):  # with the POST above: 60 calls, three windows' worth
            if n % 3:
                assert client.me()["type"] == "admin"
            else:
                assert new_user(client, n)["id"]
        elapsed = time.monotonic() - t0
        after = small.stats()
        contacts = small.dump()["contacts"]
    assert elapsed >= 10  # 59 more calls at 20 per 10 s need two more windows
    assert after["rate_limited"] - before <= 3  # paced by X-RateLimit-Remaining, not by 429s
    assert sorted(c["external_id"] for c in contacts) == sorted(
        f"hesk:customer:{n}" for n in [0, *range(3, 60, 3)]
    )


def test_a_call_past_its_send_by_is_not_sent(sim: Any, quick: RetryPolicy) -> None:
    """``send_by``: no byte leaves after it, neither at once nor after a 429's wait."""
    with (
        simulator_with(rate_limit=20) as small,
        small.client() as raw,
        IntercomClient(small.base_url, small.token, retry=quick) as client,
    ):
        body = {"role": "user", "external_id": "hesk:customer:late", "name": "Late"}
        before = small.stats()["requests_total"]
        with pytest.raises(NotSent):
            client.request("POST", "/contacts", json=body, send_by=time.monotonic() - 1)
        assert small.stats()["requests_total"] == before

        while raw.get("/me").status_code != 429:  # someone else used up the window
            pass
        before = small.stats()
        with pytest.raises(NotSent):  # refused once (not processed), then held too long
            client.request("POST", "/contacts", json=body, send_by=time.monotonic() + 0.5)
        after = small.stats()
        contacts = small.dump()["contacts"]
    assert after["requests_total"] - before["requests_total"] == 1
    assert after["rate_limited"] - before["rate_limited"] == 1
    assert contacts == []


def test_timeout_on_get_retries_then_succeeds(
    sim: Any, seeded: Any, faults: Any, quick: RetryPolicy
) -> None:
    with IntercomClient(sim.base_url, sim.token, timeout=0.3, retry=quick) as client:
        faults(rate_timeout=0.5, timeout_ms=1500, seed=11)
        for _ in range(4):
            assert client.me()["type"] == "admin"
        faults()
    assert stats(sim)["faults_injected"]["rate_timeout"] > 0


def test_timeout_on_post_is_in_doubt_and_resolved(
    sim: Any, seeded: Any, faults: Any, quick: RetryPolicy
) -> None:
    with IntercomClient(sim.base_url, sim.token, timeout=0.3, retry=quick) as client:
        faults(rate_timeout=1.0, timeout_ms=1000)
        with pytest.raises(InDoubt) as info:
            new_user(client, 9)
        faults()
        assert info.value.reason == "timed out"
        found = lookups.find_contact(client, external_id="hesk:customer:9")
    assert found is not None
    assert [c["id"] for c in dump(sim)["contacts"]] == [found["id"]]


# -- lost responses: in doubt, then resolved by the lookups ----------------------------------


@pytest.mark.parametrize("mode", ["502", "drop"])
def test_lost_contact_create_is_found(
    client: IntercomClient, sim: Any, mode: str, faults: Any
) -> None:
    faults(rate_lost_response=1.0, lost_response_mode=mode)
    with pytest.raises(InDoubt):
        new_user(client, 7)
    faults()
    found = lookups.find_contact(client, external_id="hesk:customer:7")
    assert found is not None
    matching = [c for c in dump(sim)["contacts"] if c["external_id"] == "hesk:customer:7"]
    assert [c["id"] for c in matching] == [found["id"]]
    assert lookups.find_contact(client, external_id="hesk:customer:8") is None


def test_lost_contact_create_found_by_email_fallback(
    client: IntercomClient, sim: Any, faults: Any
) -> None:
    faults(rate_lost_response=1.0, lost_response_mode="502")
    with pytest.raises(InDoubt):
        client.create_contact(role="lead", email="lead@example.test")
    faults()
    found = lookups.find_contact(client, email="lead@example.test")
    assert found is not None and found["role"] == "lead"


@pytest.mark.parametrize("mode", ["502", "drop"])
def test_lost_conversation_and_part_are_found(
    client: IntercomClient, sim: Any, admin_id: str, mode: str, faults: Any
) -> None:
    contact = new_user(client, 1)
    body = "My printer  is on fire\nplease help"
    faults(rate_lost_response=1.0, lost_response_mode=mode)
    with pytest.raises(InDoubt):
        client.create_conversation(contact["id"], body, T0)
    faults()
    assert lookups.find_conversation(client, contact["id"], T0 + 5, body) is None
    assert lookups.find_conversation(client, contact["id"], T0, "another body") is None
    conv_id = lookups.find_conversation(client, contact["id"], T0, body)
    assert conv_id is not None
    assert len(dump(sim)["conversations"]) == 1

    reply = "<p>Have you tried <b>water</b>?</p>"
    faults(rate_lost_response=1.0, lost_response_mode=mode)
    with pytest.raises(InDoubt):
        client.reply_as_admin(conv_id, admin_id, reply, T0 + 60)
    faults()
    part = lookups.find_part(client, conv_id, admin_id, T0 + 60, "Have you tried water?")
    assert part is not None and part["created_at"] == T0 + 60
    assert lookups.find_part(client, conv_id, admin_id, T0 + 61, reply) is None
    assert lookups.find_part(client, conv_id, contact["id"], T0 + 60, reply) is None
    parts = dump(sim)["conversations"][0]["conversation_parts"]["conversation_parts"]
    assert len([p for p in parts if p.get("body") == reply]) == 1


# -- writes, notifications -------------------------------------------------------------------


def test_conversation_thread(
    client: IntercomClient, sim: Any, admin_id: str, seeded: dict[str, Any]
) -> None:
    contact = new_user(client, 1)
    message = client.create_conversation(contact["id"], "Hello", T0)
    conv_id = message["conversation_id"]
    assert isinstance(conv_id, str)
    client.reply_as_contact(
        conv_id,
        contact["id"],
        "More detail",
        T0 + 10,
        attachment_files=[{"name": "a.txt", "content_type": "text/plain", "data": "aGVsbG8="}],
    )
    client.reply_as_admin(conv_id, admin_id, "Answer", T0 + 20)
    client.reply_as_admin(conv_id, admin_id, "internal", T0 + 30, message_type="note")
    team_id = seeded["teams"][0]["id"]
    client.assign_conversation(conv_id, admin_id, team_id, assignee_type="team")
    client.assign_conversation(conv_id, admin_id, admin_id)
    tag = client.create_tag("hesk-import")
    client.tag_conversation(conv_id, tag["id"], admin_id)
    client.close_conversation(conv_id, admin_id)
    client.update_conversation(conv_id, title="Printer fire")
    conv = client.get_conversation(conv_id)
    assert conv["title"] == "Printer fire" and conv["state"] == "closed"
    assert [p["created_at"] for p in conv["conversation_parts"]["conversation_parts"][:3]] == [
        T0 + 10,
        T0 + 20,
        T0 + 30,
    ]
    client.open_conversation(conv_id, admin_id)
    hits = list(
        client.search_conversations(
            {"field": "contact_ids", "operator": "=", "value": contact["id"]}
        )
    )
    assert [h["id"] for h in hits] == [conv_id]
    client.delete_conversation(conv_id)
    with pytest.raises(NotFound):
        client.get_conversation(conv_id)


def test_admin_replies_never_notify(client: IntercomClient, sim: Any, admin_id: str) -> None:
    contact = new_user(client, 1)
    conv_id = client.create_conversation(contact["id"], "Hello", T0)["conversation_id"]
    for i in range(3):
        client.reply_as_admin(conv_id, admin_id, f"reply {i}", T0 + i + 1)
    # a raw request (as the write engine sends them) gets skip_notifications forced too
    client.request(
        "POST",
        f"/conversations/{conv_id}/reply",
        json={"message_type": "comment", "type": "admin", "admin_id": admin_id, "body": "raw"},
    )
    assert stats(sim)["notifications_sent"] == 0
    # the counter works: a raw reply without skip_notifications is counted
    raw = httpx.post(
        f"{sim.base_url}/conversations/{conv_id}/reply",
        headers={"Authorization": f"Bearer {sim.token}", "Intercom-Version": "2.16"},
        json={"message_type": "comment", "type": "admin", "admin_id": admin_id, "body": "oops"},
    )
    assert raw.status_code == 200
    assert stats(sim)["notifications_sent"] == 1


def test_contact_update_delete(client: IntercomClient) -> None:
    contact = new_user(client, 1)
    assert client.update_contact(contact["id"], name="Renamed")["name"] == "Renamed"
    assert client.find_contact_by_external_id("hesk:customer:1")["id"] == contact["id"]
    assert client.delete_contact(contact["id"])["deleted"] is True
    with pytest.raises(NotFound):
        client.get_contact(contact["id"])


def test_attributes_and_tags(client: IntercomClient) -> None:
    attr = client.create_conversation_attribute("Hesk priority", "list", options=["Low", "High"])
    assert lookups.find_conversation_attribute(client, "hesk priority")["id"] == attr["id"]
    grown = client.add_conversation_attribute_option(attr["id"], "Critical")
    assert "Critical" in {o["label"] for o in grown["options"]}
    client.delete_conversation_attribute(attr["id"])
    assert lookups.find_conversation_attribute(client, "Hesk priority") is None

    data = client.create_data_attribute("hesk_id", "contact", "string")
    assert lookups.find_data_attribute(client, "contact", "hesk_id")["id"] == data["id"]
    assert lookups.find_data_attribute(client, "contact", "nope") is None

    tag = client.create_tag("Hesk")
    assert client.create_tag("hesk")["id"] == tag["id"]  # case-blind: found, not duplicated
    assert lookups.find_tag(client, "HESK")["id"] == tag["id"]
    client.delete_tag(tag["id"])
    assert lookups.find_tag(client, "hesk") is None


def test_help_center(client: IntercomClient, admin_id: str) -> None:
    assert list(client.list_help_centers())
    top = client.create_collection("Printers", description="All about printers")
    child = client.create_collection("Fires", parent_id=top["id"])
    assert lookups.find_collection(client, "Fires", top["id"])["id"] == child["id"]
    assert lookups.find_collection(client, "Fires", None) is None
    article = client.create_article(
        "Put out a fire", "<p>Water.</p>", admin_id, "published", child["id"]
    )
    assert lookups.find_article(client, "Put out a fire", child["id"])["id"] == article["id"]
    assert lookups.find_article(client, "Put out a fire", top["id"]) is None
    assert client.update_article(article["id"], title="Fire!")["title"] == "Fire!"
    assert [a["id"] for a in client.list_articles()] == [article["id"]]
    client.delete_article(article["id"])
    client.delete_collection(child["id"])
    assert lookups.find_collection(client, "Fires", top["id"]) is None


# -- secrets ---------------------------------------------------------------------------------


def test_token_never_in_repr_errors_or_logs(
    sim: Any, seeded: Any, faults: Any, quick: RetryPolicy
) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging(json=True, level="DEBUG", stream=stream)
    messages: list[str] = []
    try:
        with IntercomClient(sim.base_url, sim.token, timeout=0.3, retry=quick) as client:
            messages.append(repr(client))
            contact = new_user(client, 1)
            faults(rate_5xx=0.5, rate_timeout=0.2, timeout_ms=600, seed=5)
            for _ in range(6):
                client.get_contact(contact["id"])  # retries are logged
            faults(rate_lost_response=1.0)
            for call in (lambda: new_user(client, 2), lambda: client.get_contact("0" * 24)):
                try:
                    call()
                except IntercomError as exc:
                    messages += [str(exc), repr(exc), exc.hint]
            faults()
        with IntercomClient(sim.base_url, "bad-token-9f8e7d", retry=quick) as bad:
            try:
                bad.me()
            except IntercomError as exc:
                messages += [str(exc), repr(exc)]
    finally:  # leave logging as other tests expect it
        structlog.reset_defaults()
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    logs = stream.getvalue()
    assert "intercom.retry" in logs  # something was logged at all
    for text in [logs, *messages]:
        assert sim.token not in text
        assert "bad-token-9f8e7d" not in text
        assert "customer2@example.test" not in text  # request bodies (PII) are never logged


def test_one_client_shared_by_threads(client: IntercomClient, sim: Any) -> None:
    def work(n: int) -> str:
        contact = new_user(client, n)
        assert client.get_contact(contact["id"])["id"] == contact["id"]
        return contact["id"]

    with ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(work, range(40)))
    assert len(set(ids)) == 40 and len(sim.dump()["contacts"]) == 40


def test_find_part_beyond_read_back_limit_is_unresolvable(
    client: IntercomClient, admin_id: str
) -> None:
    contact = new_user(client, 1)
    conv_id = client.create_conversation(contact["id"], "Long thread", T0)["conversation_id"]
    for i in range(501):
        client.reply_as_admin(conv_id, admin_id, f"note {i}", T0 + 1 + i, message_type="note")
    # the newest part is still readable ...
    assert lookups.find_part(client, conv_id, admin_id, T0 + 501, "note 500") is not None
    # ... but a part that is not among the newest 500 cannot be ruled out
    with pytest.raises(Unresolvable):
        lookups.find_part(client, conv_id, admin_id, T0 + 999, "never written")


def test_from_settings(sim: Any, seeded: Any) -> None:
    settings = Settings(intercom_token=sim.token, intercom_base_url=sim.base_url + "/")
    with IntercomClient.from_settings(settings) as client:
        assert client.me()["type"] == "admin"
        assert sim.token not in repr(client)
    with pytest.raises(ConfigError):
        IntercomClient.from_settings(Settings(intercom_token=None))
