"""The Slack stand-in, driven through a real slack_sdk WebClient over loopback."""

from __future__ import annotations

import json
import threading
from typing import Any

import httpx
import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from devkit.slack_standin import SlackStandIn
from tests.devkit.conftest import ORDERS, OUTSIDER, PACKER, SELLER, FakeClock

SECTION = {"type": "section", "block_id": "order", "text": {"type": "mrkdwn", "text": "*Order 1001*"}}
TRACKING_LABEL = {"type": "plain_text", "text": "Tracking"}
CARD_METADATA = {"event_type": "rakuten_order", "event_payload": {"purchase_id": "1001"}}


def refusal(call: Any) -> SlackApiError:
    with pytest.raises(SlackApiError) as caught:
        call()
    return caught.value


def modal(title: str = "Mark shipped", **extra: Any) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": title}, "blocks": [SECTION], **extra}


# --------------------------------------------------------------------------- auth and transport


def test_auth_test_answers_the_bot_identity_with_scopes_header(standin: SlackStandIn, client: WebClient) -> None:
    answer = client.auth_test()

    assert answer["user_id"] == "U0BOT"
    assert answer["team_id"] == "T0STANDIN"
    assert answer["bot_id"] == "B0STANDIN"
    assert "chat:write" in answer.headers["x-oauth-scopes"].split(",")


def test_a_wrong_token_is_invalid_auth(standin: SlackStandIn) -> None:
    wrong = WebClient(token="xoxb-wrong", base_url=standin.api_url)

    assert refusal(wrong.auth_test).response["error"] == "invalid_auth"


def test_a_revoked_token_is_refused_token_revoked_and_the_call_recorded(
    standin: SlackStandIn, client: WebClient
) -> None:
    assert client.auth_test()["ok"]

    standin.revoke_token()

    assert refusal(client.auth_test).response["error"] == "token_revoked"
    assert refusal(lambda: client.chat_postMessage(channel=ORDERS, text="hello")).response["error"] == "token_revoked"
    assert [call.method for call in standin.calls] == ["auth.test", "auth.test", "chat.postMessage"]
    assert standin.messages(ORDERS) == []


def test_offline_the_stand_in_drops_every_call_unanswered_and_records_it(standin: SlackStandIn) -> None:
    standin.go_offline()

    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(standin.api_url + "chat.postMessage", data={"channel": ORDERS, "text": "hello"}, timeout=2)

    assert [(call.method, call.status) for call in standin.calls] == [("chat.postMessage", 0)]
    assert standin.messages(ORDERS) == []
    standin.go_offline(False)
    assert httpx.post(standin.api_url + "auth.test", timeout=2).json()["error"] == "not_authed"


def test_a_missing_token_is_not_authed(standin: SlackStandIn) -> None:
    answer = httpx.post(standin.api_url + "auth.test").json()

    assert answer == {"ok": False, "error": "not_authed"}


def test_the_token_is_never_recorded(standin: SlackStandIn) -> None:
    body = {"token": standin.bot_token, "channel": ORDERS, "text": "hello"}
    answer = httpx.post(standin.api_url + "chat.postMessage", data=body).json()

    assert answer["ok"] is True
    assert standin.calls_to("chat.postMessage")[0].params == {"channel": ORDERS, "text": "hello"}
    assert standin.bot_token not in repr(standin.calls)


def test_an_unknown_method_answers_200_unknown_method(standin: SlackStandIn, client: WebClient) -> None:
    error = refusal(lambda: client.api_call("chat.scheduleMessage", json={"channel": ORDERS}))

    assert error.response.status_code == 200
    assert error.response["error"] == "unknown_method"
    assert standin.calls[-1].method == "chat.scheduleMessage"


def test_a_malformed_json_body_is_invalid_json(standin: SlackStandIn) -> None:
    answer = httpx.post(
        standin.api_url + "chat.postMessage",
        content=b"{not json",
        headers={"Authorization": f"Bearer {standin.bot_token}", "Content-Type": "application/json"},
    ).json()

    assert answer == {"ok": False, "error": "invalid_json"}


def test_api_url_needs_a_started_standin() -> None:
    with pytest.raises(RuntimeError):
        _ = SlackStandIn().api_url


def test_stop_closes_the_port(clock: FakeClock) -> None:
    standin = SlackStandIn(clock=clock).start()
    url = standin.api_url
    standin.stop()

    with pytest.raises(httpx.ConnectError):
        httpx.post(url + "auth.test", timeout=2)


# --------------------------------------------------------------------------- chat.postMessage


def test_post_message_stores_text_blocks_metadata(standin: SlackStandIn, client: WebClient) -> None:
    answer = client.chat_postMessage(channel=ORDERS, text="Order 1001", blocks=[SECTION], metadata=CARD_METADATA)

    assert answer["channel"] == ORDERS
    assert answer["message"]["blocks"] == [SECTION]
    stored = standin.message(ORDERS, answer["ts"])
    assert (stored.text, stored.blocks, stored.metadata) == ("Order 1001", [SECTION], CARD_METADATA)
    assert stored.user == "U0BOT"
    assert stored.updated == 0


def test_post_message_ts_increase_strictly_even_with_a_frozen_clock(standin: SlackStandIn, client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel=ORDERS, text=f"n{i}")["ts"] for i in range(3)]

    assert stamps == ["1700000000.000000", "1700000000.000001", "1700000000.000002"]


def test_post_message_in_a_thread(standin: SlackStandIn, client: WebClient) -> None:
    parent = client.chat_postMessage(channel=ORDERS, text="card")["ts"]
    reply = client.chat_postMessage(channel=ORDERS, text="shipped", thread_ts=parent)

    assert reply["message"]["thread_ts"] == parent
    assert [m.thread_ts for m in standin.messages(ORDERS)] == [None, parent]


def test_a_form_encoded_post_carries_blocks_and_metadata_as_json(standin: SlackStandIn) -> None:
    body = {"channel": ORDERS, "text": "form", "blocks": json.dumps([SECTION]), "metadata": json.dumps(CARD_METADATA)}
    answer = httpx.post(
        standin.api_url + "chat.postMessage", data=body, headers={"Authorization": f"Bearer {standin.bot_token}"}
    ).json()

    stored = standin.message(ORDERS, answer["ts"])
    assert (stored.blocks, stored.metadata) == ([SECTION], CARD_METADATA)


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"channel": "C0NOWHERE", "text": "x"}, "channel_not_found"),
        ({"channel": ORDERS}, "no_text"),
        (
            {"channel": ORDERS, "text": "x", "blocks": [SECTION | {"block_id": f"b{i}"} for i in range(51)]},
            "invalid_blocks",
        ),
        ({"channel": ORDERS, "text": "x", "blocks": "[not json"}, "invalid_blocks_format"),
        ({"channel": ORDERS, "text": "x", "metadata": {"event_payload": {}}}, "invalid_metadata_format"),
    ],
)
def test_post_message_refusals(client: WebClient, arguments: dict[str, Any], error: str) -> None:
    answer = refusal(lambda: client.api_call("chat.postMessage", json=arguments))

    assert answer.response.status_code == 200
    assert answer.response["error"] == error


def test_an_over_long_section_names_the_offending_field(client: WebClient) -> None:
    long_section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}

    answer = refusal(lambda: client.chat_postMessage(channel=ORDERS, text="x", blocks=[SECTION, long_section]))

    assert answer.response["error"] == "invalid_blocks"
    assert answer.response["errors"] == ["must be less than 3001 characters [json-pointer:/blocks/1/text/text]"]


def test_very_long_text_is_truncated_with_a_warning(standin: SlackStandIn, client: WebClient) -> None:
    answer = client.chat_postMessage(channel=ORDERS, text="y" * 40_010)

    assert answer["warning"] == "message_truncated"
    assert len(standin.message(ORDERS, answer["ts"]).text) == 40_000


def test_posting_to_a_user_id_opens_a_direct_message(standin: SlackStandIn, client: WebClient) -> None:
    answer = client.chat_postMessage(channel=SELLER, text="Rakuten is unreachable")

    assert answer["channel"] == "D0SELLER"
    assert [m.text for m in standin.messages("D0SELLER")] == ["Rakuten is unreachable"]


def test_a_public_channel_without_the_bot_needs_chat_write_public(clock: FakeClock) -> None:
    with SlackStandIn(clock=clock, scopes=["chat:write", "commands"]) as standin:
        standin.add_channel("C0PUBLIC", bot_is_member=False)
        client = WebClient(token=standin.bot_token, base_url=standin.api_url)

        assert refusal(lambda: client.chat_postMessage(channel="C0PUBLIC", text="x")).response["error"] == (
            "not_in_channel"
        )


def test_a_private_channel_without_the_bot_is_not_found(standin: SlackStandIn, client: WebClient) -> None:
    standin.add_channel("G0SECRET", is_private=True, bot_is_member=False)

    assert refusal(lambda: client.chat_postMessage(channel="G0SECRET", text="x")).response["error"] == (
        "channel_not_found"
    )


def test_a_narrowed_scope_set_answers_missing_scope(clock: FakeClock) -> None:
    with SlackStandIn(clock=clock, scopes=["chat:write", "commands"]) as standin:
        standin.add_user(SELLER)
        client = WebClient(token=standin.bot_token, base_url=standin.api_url)

        answer = refusal(lambda: client.users_info(user=SELLER)).response

    assert (answer["error"], answer["needed"], answer["provided"]) == (
        "missing_scope",
        "users:read",
        "chat:write,commands",
    )


# --------------------------------------------------------------------------- chat.update / ephemeral / permalink


def test_chat_update_replaces_content_and_keeps_every_version(standin: SlackStandIn, client: WebClient) -> None:
    card = client.chat_postMessage(channel=ORDERS, text="awaiting shipment", blocks=[SECTION], metadata=CARD_METADATA)
    ts = card["ts"]
    shipped = {"type": "section", "text": {"type": "mrkdwn", "text": "Shipped by <@U0PACKER>"}}

    answer = client.chat_update(channel=ORDERS, ts=ts, text="shipped", blocks=[shipped])

    assert (answer["ts"], answer["text"]) == (ts, "shipped")
    stored = standin.message(ORDERS, ts)
    assert (stored.text, stored.blocks, stored.metadata) == ("shipped", [shipped], CARD_METADATA)
    assert stored.updated == 1
    assert [version["text"] for version in stored.history] == ["awaiting shipment", "shipped"]
    assert answer["message"]["edited"]["user"] == "U0BOT"


def test_chat_update_of_an_unknown_message_is_message_not_found(client: WebClient) -> None:
    answer = refusal(lambda: client.chat_update(channel=ORDERS, ts="1600000000.000001", text="x"))

    assert answer.response["error"] == "message_not_found"


def test_ephemeral_messages_are_kept_per_user(standin: SlackStandIn, client: WebClient) -> None:
    answer = client.chat_postEphemeral(channel=ORDERS, user=PACKER, text="Only admins can disconnect")

    assert answer["message_ts"]
    assert [e["text"] for e in standin.ephemerals(PACKER)] == ["Only admins can disconnect"]
    assert standin.ephemerals(SELLER) == []


def test_an_ephemeral_to_a_non_member_is_refused(client: WebClient) -> None:
    answer = refusal(lambda: client.chat_postEphemeral(channel=ORDERS, user=OUTSIDER, text="x"))

    assert answer.response["error"] == "user_not_in_channel"


def test_get_permalink_points_at_the_message(client: WebClient) -> None:
    ts = client.chat_postMessage(channel=ORDERS, text="card")["ts"]

    answer = client.chat_getPermalink(channel=ORDERS, message_ts=ts)

    assert answer["permalink"] == f"https://standin.slack.com/archives/{ORDERS}/p{ts.replace('.', '')}"
    assert refusal(lambda: client.chat_getPermalink(channel=ORDERS, message_ts="1.2")).response["error"] == (
        "message_not_found"
    )


# --------------------------------------------------------------------------- conversations.*


def post_cards(client: WebClient, count: int) -> list[str]:
    return [
        client.chat_postMessage(channel=ORDERS, text=f"card {i}", metadata=CARD_METADATA)["ts"] for i in range(count)
    ]


def test_history_pages_newest_first_with_a_cursor(client: WebClient) -> None:
    stamps = post_cards(client, 5)

    first = client.conversations_history(channel=ORDERS, limit=2)
    second = client.conversations_history(channel=ORDERS, limit=2, cursor=first["response_metadata"]["next_cursor"])
    third = client.conversations_history(channel=ORDERS, limit=2, cursor=second["response_metadata"]["next_cursor"])

    pages = [[m["ts"] for m in page["messages"]] for page in (first, second, third)]
    assert pages == [stamps[4:2:-1], stamps[2:0:-1], stamps[:1]]
    assert [page["has_more"] for page in (first, second, third)] == [True, True, False]
    assert "response_metadata" not in third.data


def test_history_defaults_to_100_messages(client: WebClient) -> None:
    post_cards(client, 101)

    assert len(client.conversations_history(channel=ORDERS)["messages"]) == 100


def test_history_respects_oldest_and_latest(client: WebClient) -> None:
    stamps = post_cards(client, 4)

    exclusive = client.conversations_history(channel=ORDERS, oldest=stamps[0], latest=stamps[3])
    inclusive = client.conversations_history(channel=ORDERS, oldest=stamps[0], latest=stamps[3], inclusive=True)

    assert [m["ts"] for m in exclusive["messages"]] == [stamps[2], stamps[1]]
    assert [m["ts"] for m in inclusive["messages"]] == stamps[::-1]


def test_history_carries_metadata_only_when_asked(client: WebClient) -> None:
    post_cards(client, 1)

    plain = client.conversations_history(channel=ORDERS)["messages"][0]
    with_metadata = client.conversations_history(channel=ORDERS, include_all_metadata=True)["messages"][0]

    assert "metadata" not in plain
    assert with_metadata["metadata"] == CARD_METADATA


def test_history_lists_thread_parents_not_replies(client: WebClient) -> None:
    parent = client.chat_postMessage(channel=ORDERS, text="card")["ts"]
    client.chat_postMessage(channel=ORDERS, text="reply", thread_ts=parent)

    messages = client.conversations_history(channel=ORDERS)["messages"]

    assert [(m["ts"], m["reply_count"]) for m in messages] == [(parent, 1)]


def test_replies_list_the_parent_then_its_replies_with_metadata_when_asked(client: WebClient) -> None:
    parent = client.chat_postMessage(channel=ORDERS, text="summary")["ts"]
    reply = client.chat_postMessage(channel=ORDERS, text="card", thread_ts=parent, metadata=CARD_METADATA)["ts"]
    client.chat_postMessage(channel=ORDERS, text="elsewhere")

    messages = client.conversations_replies(channel=ORDERS, ts=parent, include_all_metadata=True)["messages"]

    assert [(m["ts"], m.get("thread_ts")) for m in messages] == [(parent, parent), (reply, parent)]
    assert messages[1]["metadata"] == CARD_METADATA
    assert refusal(lambda: client.conversations_replies(channel=ORDERS, ts="1.000001")).response["error"] == (
        "thread_not_found"
    )


def test_history_refuses_a_forged_cursor(client: WebClient) -> None:
    assert refusal(lambda: client.conversations_history(channel=ORDERS, cursor="garbage!")).response["error"] == (
        "invalid_cursor"
    )


def test_members_are_paginated(client: WebClient) -> None:
    first = client.conversations_members(channel=ORDERS, limit=2)
    rest = client.conversations_members(channel=ORDERS, limit=2, cursor=first["response_metadata"]["next_cursor"])

    assert first["members"] == [SELLER, PACKER]
    assert rest["members"] == ["U0BOT"]
    assert rest["response_metadata"]["next_cursor"] == ""


def test_conversations_info_describes_the_channel(client: WebClient) -> None:
    channel = client.conversations_info(channel=ORDERS, include_num_members=True)["channel"]

    assert (channel["id"], channel["name"], channel["is_member"], channel["num_members"]) == (
        ORDERS,
        "rakuten-orders",
        True,
        3,
    )
    assert refusal(lambda: client.conversations_info(channel="C0NOWHERE")).response["error"] == "channel_not_found"


# --------------------------------------------------------------------------- users / usergroups


def test_users_info_tells_admins_apart(client: WebClient) -> None:
    assert client.users_info(user=SELLER)["user"]["is_admin"] is True
    assert client.users_info(user=PACKER)["user"]["is_admin"] is False
    assert refusal(lambda: client.users_info(user="U0GHOST")).response["error"] == "user_not_found"


def test_usergroup_members(standin: SlackStandIn, client: WebClient) -> None:
    standin.add_usergroup("S0SHIPPERS", [PACKER, SELLER], handle="shippers")

    assert client.usergroups_users_list(usergroup="S0SHIPPERS")["users"] == [PACKER, SELLER]
    assert refusal(lambda: client.usergroups_users_list(usergroup="S0NONE")).response["error"] == "no_such_subteam"


# --------------------------------------------------------------------------- views


def test_views_open_returns_the_stored_view(standin: SlackStandIn, client: WebClient) -> None:
    trigger = standin.new_trigger_id()
    view = client.views_open(trigger_id=trigger, view=modal(callback_id="ship", private_metadata="m"))["view"]

    assert view["id"].startswith("V")
    assert view["hash"]
    assert (view["callback_id"], view["private_metadata"], view["root_view_id"]) == ("ship", "m", view["id"])
    assert standin.views[view["id"]]["blocks"] == [SECTION]


def test_a_trigger_id_is_single_use(standin: SlackStandIn, client: WebClient) -> None:
    trigger = standin.new_trigger_id()
    client.views_open(trigger_id=trigger, view=modal())

    assert refusal(lambda: client.views_open(trigger_id=trigger, view=modal())).response["error"] == (
        "exchanged_trigger_id"
    )


def test_an_unknown_trigger_id_is_invalid(client: WebClient) -> None:
    answer = refusal(lambda: client.views_open(trigger_id="12345.678.abc", view=modal()))

    assert answer.response["error"] == "invalid_trigger_id"


def test_a_trigger_id_expires_after_three_seconds(standin: SlackStandIn, client: WebClient, clock: FakeClock) -> None:
    on_time, late = standin.new_trigger_id(), standin.new_trigger_id()
    clock.advance(3.0)
    client.views_open(trigger_id=on_time, view=modal())
    clock.advance(0.01)

    assert refusal(lambda: client.views_open(trigger_id=late, view=modal())).response["error"] == "expired_trigger_id"


@pytest.mark.parametrize(
    ("view", "pointer"),
    [
        (modal(title="x" * 25), "/view/title/text"),
        (modal(submit={"type": "plain_text", "text": "s" * 25}), "/view/submit/text"),
        (modal(close={"type": "plain_text", "text": "c" * 25}), "/view/close/text"),
        (modal(blocks=[{"type": "divider"}] * 101), "/view/blocks"),
        (modal(private_metadata="m" * 3001), "/view/private_metadata"),
        (
            modal(blocks=[{"type": "input", "label": TRACKING_LABEL, "element": {"type": "plain_text_input"}}]),
            "/view/submit",
        ),
    ],
)
def test_views_open_enforces_modal_limits(
    standin: SlackStandIn, client: WebClient, view: dict[str, Any], pointer: str
) -> None:
    trigger = standin.new_trigger_id()

    answer = refusal(lambda: client.views_open(trigger_id=trigger, view=view)).response

    assert answer["error"] == "invalid_arguments"
    assert any(f"[json-pointer:{pointer}]" in message for message in answer["response_metadata"]["messages"])
    # A refused view leaves the trigger usable, so a corrected modal can still open.
    client.views_open(trigger_id=trigger, view=modal())


def test_views_update_by_id_and_by_external_id_with_hash_guard(standin: SlackStandIn, client: WebClient) -> None:
    opened = client.views_open(
        trigger_id=standin.new_trigger_id(), view=modal(title="Loading…", external_id="ship-1001")
    )
    view_id, first_hash = opened["view"]["id"], opened["view"]["hash"]

    updated = client.views_update(view_id=view_id, hash=first_hash, view=modal(title="Mark shipped"))["view"]
    by_external = client.views_update(external_id="ship-1001", view=modal(title="Shipped"))["view"]
    stale = refusal(lambda: client.views_update(view_id=view_id, hash=first_hash, view=modal()))

    assert updated["id"] == by_external["id"] == view_id
    assert updated["hash"] != first_hash
    assert standin.views[view_id]["title"]["text"] == "Shipped"
    assert stale.response["error"] == "hash_conflict"


def test_views_update_of_an_unknown_view_is_not_found(client: WebClient) -> None:
    assert refusal(lambda: client.views_update(view_id="V0NONE", view=modal())).response["error"] == "not_found"


def test_views_push_stacks_at_most_three_views(standin: SlackStandIn, client: WebClient) -> None:
    root = client.views_open(trigger_id=standin.new_trigger_id(), view=modal())["view"]["id"]
    second = client.views_push(trigger_id=standin.new_trigger_id(view_id=root), view=modal(title="Items"))["view"]
    third = client.views_push(trigger_id=standin.new_trigger_id(view_id=second["id"]), view=modal(title="Confirm"))

    fourth = refusal(lambda: client.views_push(trigger_id=standin.new_trigger_id(view_id=root), view=modal()))

    assert (second["root_view_id"], second["previous_view_id"]) == (root, root)
    assert standin.view_stack(root) == [root, second["id"], third["view"]["id"]]
    assert fourth.response["error"] == "push_limit_reached"


def test_views_publish_keeps_one_home_per_user(standin: SlackStandIn, client: WebClient) -> None:
    home = {"type": "home", "blocks": [SECTION]}
    first = client.views_publish(user_id=SELLER, view=home)["view"]
    second = client.views_publish(user_id=SELLER, hash=first["hash"], view=home | {"private_metadata": "v2"})["view"]

    assert second["id"] == first["id"]
    assert standin.published_home(SELLER)["private_metadata"] == "v2"
    assert standin.published_home(PACKER) is None
    assert refusal(lambda: client.views_publish(user_id=SELLER, hash=first["hash"], view=home)).response["error"] == (
        "hash_conflict"
    )
    assert refusal(lambda: client.views_publish(user_id=SELLER, view=modal())).response["error"] == "invalid_arguments"


# --------------------------------------------------------------------------- faults


def test_a_rate_limited_call_answers_429_with_retry_after(standin: SlackStandIn, client: WebClient) -> None:
    standin.rate_limit("chat.postMessage", retry_after=7)

    answer = refusal(lambda: client.chat_postMessage(channel=ORDERS, text="x"))

    assert answer.response.status_code == 429
    assert answer.response.headers["Retry-After"] == "7"
    assert answer.response["error"] == "ratelimited"
    assert [call.status for call in standin.calls_to("chat.postMessage")] == [429]
    assert standin.messages(ORDERS) == []


def test_a_rate_limit_after_some_calls_lets_those_through_first(standin: SlackStandIn, client: WebClient) -> None:
    standin.rate_limit("chat.postMessage", retry_after=7, after=2)

    client.chat_postMessage(channel=ORDERS, text="first")
    client.chat_postMessage(channel=ORDERS, text="second")
    answer = refusal(lambda: client.chat_postMessage(channel=ORDERS, text="third"))
    client.chat_postMessage(channel=ORDERS, text="fourth")

    assert answer.response.status_code == 429
    assert [call.status for call in standin.calls_to("chat.postMessage")] == [200, 200, 429, 200]
    assert [m.text for m in standin.messages(ORDERS)] == ["first", "second", "fourth"]


def test_the_retry_handler_waits_for_retry_after_then_succeeds() -> None:
    with SlackStandIn() as standin:
        standin.add_channel(ORDERS)
        standin.rate_limit("chat.postMessage", retry_after=1)
        client = WebClient(token=standin.bot_token, base_url=standin.api_url)
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))

        answer = client.chat_postMessage(channel=ORDERS, text="card")

        limited, accepted = standin.calls_to("chat.postMessage")
        assert (limited.status, accepted.status) == (429, 200)
        assert accepted.at - limited.at >= 1.0
        assert [m.ts for m in standin.messages(ORDERS)] == [answer["ts"]]


def test_fail_refuses_the_next_calls_then_recovers(standin: SlackStandIn, client: WebClient) -> None:
    standin.fail("chat.update", "ratelimited", times=2)
    standin.fail("views.open", "internal_error")
    ts = client.chat_postMessage(channel=ORDERS, text="card")["ts"]

    errors = [refusal(lambda: client.chat_update(channel=ORDERS, ts=ts, text="x")).response["error"] for _ in range(2)]
    client.chat_update(channel=ORDERS, ts=ts, text="shipped")

    assert errors == ["ratelimited", "ratelimited"]
    assert [call.status for call in standin.calls_to("chat.update")] == [200, 200, 200]
    assert standin.message(ORDERS, ts).text == "shipped"


# --------------------------------------------------------------------------- response URLs


def test_respond_replaces_the_original_message(standin: SlackStandIn, client: WebClient) -> None:
    ts = client.chat_postMessage(channel=ORDERS, text="Accept order 1001?")["ts"]
    url = standin.new_response_url(ORDERS, user_id=SELLER, message_ts=ts)

    WebhookClient(url).send(text="Order 1001 accepted", replace_original=True)

    assert standin.message(ORDERS, ts).text == "Order 1001 accepted"
    assert standin.responses == [{"text": "Order 1001 accepted", "replace_original": True}]


def test_respond_defaults_to_an_ephemeral_reply(standin: SlackStandIn) -> None:
    url = standin.new_response_url(ORDERS, user_id=SELLER)

    WebhookClient(url).send(text="Connected")

    assert [(e["text"], e["source"]) for e in standin.ephemerals(SELLER)] == [("Connected", "response_url")]
    assert standin.messages(ORDERS) == []


def test_respond_in_channel_posts_and_delete_original_removes(standin: SlackStandIn, client: WebClient) -> None:
    ts = client.chat_postMessage(channel=ORDERS, text="card")["ts"]
    url = standin.new_response_url(ORDERS, user_id=SELLER, message_ts=ts)

    WebhookClient(url).send(text="Seller disconnected", response_type="in_channel")
    WebhookClient(url).send(text="", delete_original=True)

    assert [m.text for m in standin.messages(ORDERS)] == ["Seller disconnected"]


def test_a_response_with_invalid_blocks_is_refused_and_not_applied(standin: SlackStandIn) -> None:
    url = standin.new_response_url(ORDERS, user_id=SELLER)
    too_long = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}

    answer = WebhookClient(url).send(text="Order 1001", blocks=[too_long])

    assert (answer.status_code, answer.body) == (400, "invalid_blocks")
    assert standin.ephemerals(SELLER) == []


def test_a_response_url_serves_five_uses_within_thirty_minutes(standin: SlackStandIn, clock: FakeClock) -> None:
    worn = standin.new_response_url(ORDERS, user_id=SELLER)
    old = standin.new_response_url(ORDERS, user_id=SELLER)

    statuses = [WebhookClient(worn).send(text=f"{i}").status_code for i in range(6)]
    clock.advance(30 * 60 + 1)

    assert statuses == [200] * 5 + [404]
    assert WebhookClient(old).send(text="late").status_code == 404


# --------------------------------------------------------------------------- waiting and concurrency


def test_wait_for_raises_when_the_condition_never_holds(standin: SlackStandIn) -> None:
    with pytest.raises(AssertionError, match=r"within 0\.05 s"):
        standin.wait_for(lambda: bool(standin.messages(ORDERS)), timeout=0.05)


def test_wait_for_calls_sees_calls_made_on_other_threads(standin: SlackStandIn, client: WebClient) -> None:
    workers = [
        threading.Thread(target=client.chat_postMessage, kwargs={"channel": ORDERS, "text": "x"}) for _ in range(3)
    ]
    for worker in workers:
        worker.start()

    calls = standin.wait_for_calls("chat.postMessage", 3)

    for worker in workers:
        worker.join()
    assert len(calls) == 3
    with pytest.raises(AssertionError, match=r"expected 4 call\(s\) to chat.postMessage"):
        standin.wait_for_calls("chat.postMessage", 4, timeout=0.05)


def test_concurrent_posts_are_all_kept_with_distinct_ts(standin: SlackStandIn, client: WebClient) -> None:
    def post_ten(worker: int) -> None:
        for i in range(10):
            client.chat_postMessage(channel=ORDERS, text=f"{worker}-{i}")

    workers = [threading.Thread(target=post_ten, args=(n,)) for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    stored = standin.messages(ORDERS)
    assert len(stored) == 80
    assert len({m.ts for m in stored}) == 80
    assert [m.ts for m in stored] == sorted(m.ts for m in stored)


def test_wait_for_may_look_at_app_state_locked_by_a_thread_calling_the_standin(
    standin: SlackStandIn, client: WebClient
) -> None:
    app_lock = threading.Lock()
    holding = threading.Event()
    posted: list[str] = []

    def post_while_holding_the_app_lock() -> None:
        with app_lock:
            holding.set()
            posted.append(client.chat_postMessage(channel=ORDERS, text="card")["ts"])

    def card_recorded() -> bool:
        with app_lock:
            return bool(posted)

    worker = threading.Thread(target=post_while_holding_the_app_lock)
    worker.start()
    assert holding.wait(timeout=5)

    standin.wait_for(card_recorded, timeout=5)

    worker.join()
    assert [m.ts for m in standin.messages(ORDERS)] == posted
