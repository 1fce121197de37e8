"""The Web API methods the stand-in serves, each `(workspace, arguments) -> answer`.

A method returns the fields of a successful answer (the server adds `"ok": true`) or raises `Refusal`. The
server has already authenticated the call and holds the workspace lock. `apply_response` is the one entry
point that is not a Web API method: what a POST to a response_url does to the workspace.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from decimal import Decimal

from bot.ui.limits import MESSAGE_TEXT_MAX as MAX_MESSAGE_TEXT
from devkit.block_kit_limits import message_warnings
from devkit.slack_standin.arguments import (
    decode_cursor,
    encode_cursor,
    limit_param,
    message_content,
    metadata_param,
    truthy,
    ts_param,
    view_param,
)
from devkit.slack_standin.workspace import (
    Channel,
    JsonDict,
    Refusal,
    ResponseUrl,
    StoredMessage,
    Trigger,
    Workspace,
)

MAX_VIEW_STACK = 3
MAX_HISTORY_LIMIT = 999
MAX_MEMBERS_LIMIT = 1000

Method = Callable[[Workspace, JsonDict], JsonDict]


# ---------------------------------------------------------------------- auth / chat


def auth_test(ws: Workspace, params: JsonDict) -> JsonDict:
    return {
        "url": f"https://{ws.team_domain}.slack.com/",
        "team": "Stand-in workspace",
        "user": ws.users[ws.bot_user_id].name,
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def chat_post_message(ws: Workspace, params: JsonDict) -> JsonDict:
    ws.require_scope("chat:write")
    channel = ws.postable_channel(params.get("channel"))
    text, blocks, attachments = message_content(params)
    if not text and not blocks and not attachments:
        raise Refusal("no_text")
    warnings = message_warnings({"text": text})
    if "message_truncated" in warnings:
        text = text[:MAX_MESSAGE_TEXT]
    metadata = metadata_param(params)
    thread_ts = str(params["thread_ts"]) if params.get("thread_ts") else None
    message = StoredMessage(
        channel=channel.id,
        ts=ws.next_ts(),
        text=text,
        blocks=blocks,
        metadata=metadata,
        thread_ts=thread_ts,
        user=ws.bot_user_id,
        bot_id=ws.bot_id,
        team=ws.team_id,
        attachments=attachments,
    )
    ws.add_message(message)
    answer: JsonDict = {"channel": channel.id, "ts": message.ts, "message": message.as_payload()}
    if warnings:
        answer["warning"] = ",".join(warnings)
        answer["response_metadata"] = {"warnings": warnings}
    return answer


def chat_update(ws: Workspace, params: JsonDict) -> JsonDict:
    ws.require_scope("chat:write")
    channel = ws.postable_channel(params.get("channel"))
    message = ws.find_message(channel.id, str(params.get("ts", "")))
    if message is None:
        raise Refusal("message_not_found")
    has_content = any(key in params for key in ("text", "blocks", "attachments", "metadata"))
    if not has_content:
        raise Refusal("no_text")
    text, blocks, attachments = message_content(params)
    metadata = metadata_param(params)
    # Only the fields the call names change, as in Slack: an update with blocks alone keeps the text.
    if "text" in params:
        message.text = text[:MAX_MESSAGE_TEXT]
    if "blocks" in params:
        message.blocks = blocks
    if "attachments" in params:
        message.attachments = attachments
    if "metadata" in params:
        message.metadata = metadata
    ws.mark_edited(message)
    return {"channel": channel.id, "ts": message.ts, "text": message.text, "message": message.as_payload()}


def chat_post_ephemeral(ws: Workspace, params: JsonDict) -> JsonDict:
    ws.require_scope("chat:write")
    channel = ws.postable_channel(params.get("channel"))
    user = str(params.get("user") or "")
    if not user:
        raise Refusal("user_not_found")
    if channel.members and user not in channel.members:
        raise Refusal("user_not_in_channel")
    text, blocks, attachments = message_content(params)
    if not text and not blocks and not attachments:
        raise Refusal("no_text")
    message_ts = ws.next_ts()
    ws.ephemerals.append(
        {
            "channel": channel.id,
            "user": user,
            "text": text,
            "blocks": blocks,
            "thread_ts": str(params["thread_ts"]) if params.get("thread_ts") else None,
            "message_ts": message_ts,
            "source": "chat.postEphemeral",
        }
    )
    return {"message_ts": message_ts}


def chat_get_permalink(ws: Workspace, params: JsonDict) -> JsonDict:
    channel = ws.visible_channel(params.get("channel"))
    ts = str(params.get("message_ts", ""))
    message = ws.find_message(channel.id, ts)
    if message is None:
        raise Refusal("message_not_found")
    permalink = f"https://{ws.team_domain}.slack.com/archives/{channel.id}/p{ts.replace('.', '')}"
    if message.thread_ts and message.thread_ts != message.ts:
        permalink += f"?thread_ts={message.thread_ts}&cid={channel.id}"
    return {"channel": channel.id, "permalink": permalink}


# ---------------------------------------------------------------------- conversations / users


def conversations_history(ws: Workspace, params: JsonDict) -> JsonDict:
    channel = ws.visible_channel(params.get("channel"))
    ws.require_scope(_scope_for(channel, "history"))
    if not channel.bot_is_member:
        raise Refusal("not_in_channel")
    oldest = ts_param(params.get("oldest"), Decimal(0))
    latest = ts_param(params.get("latest"), None)
    inclusive = truthy(params.get("inclusive"))
    include_metadata = truthy(params.get("include_all_metadata"))
    limit = limit_param(params.get("limit"), default=100, maximum=MAX_HISTORY_LIMIT)
    stored = ws.messages.get(channel.id, [])
    # History lists top-level messages only, newest first; a parent carries its thread's reply count.
    replies: dict[str, list[StoredMessage]] = {}
    for message in stored:
        if message.thread_ts and message.thread_ts != message.ts:
            replies.setdefault(message.thread_ts, []).append(message)
    selected = [
        message
        for message in reversed(stored)
        if not (message.thread_ts and message.thread_ts != message.ts)
        and _within(Decimal(message.ts), oldest, latest, inclusive=inclusive)
    ]
    start = 0
    if params.get("cursor"):
        next_ts = decode_cursor(str(params["cursor"]), "next_ts")
        start = next((i for i, m in enumerate(selected) if m.ts == next_ts), -1)
        if start < 0:
            raise Refusal("invalid_cursor")
    page = selected[start : start + limit]
    answer: JsonDict = {
        "messages": [_history_entry(ws, m, replies.get(m.ts, []), include_metadata) for m in page],
        "has_more": start + limit < len(selected),
        "pin_count": 0,
    }
    if answer["has_more"]:
        answer["response_metadata"] = {"next_cursor": encode_cursor("next_ts", selected[start + limit].ts)}
    return answer


def conversations_replies(ws: Workspace, params: JsonDict) -> JsonDict:
    """A thread, parent first then its replies oldest first (those between ``oldest`` and ``latest`` when given),
    in one page (no cursor: threads here are short)."""
    channel = ws.visible_channel(params.get("channel"))
    ws.require_scope(_scope_for(channel, "history"))
    if not channel.bot_is_member:
        raise Refusal("not_in_channel")
    parent = ws.find_message(channel.id, str(params.get("ts") or ""))
    if parent is None:
        raise Refusal("thread_not_found")
    include_metadata = truthy(params.get("include_all_metadata"))
    oldest = ts_param(params.get("oldest"), Decimal(0))
    latest = ts_param(params.get("latest"), None)
    inclusive = truthy(params.get("inclusive"))
    replies = [m for m in ws.messages.get(channel.id, []) if m.thread_ts == parent.ts and m.ts != parent.ts]
    listed = [m for m in replies if _within(Decimal(m.ts), oldest, latest, inclusive=inclusive)]
    entries = [_history_entry(ws, parent, replies, include_metadata)]
    entries += [{**m.as_payload(include_metadata=include_metadata), "app_id": ws.app_id} for m in listed]
    return {"messages": entries, "has_more": False}


def _history_entry(
    ws: Workspace, message: StoredMessage, replies: list[StoredMessage], include_metadata: bool
) -> JsonDict:
    entry = message.as_payload(include_metadata=include_metadata)
    entry["app_id"] = ws.app_id
    if replies:
        entry["thread_ts"] = message.ts
        entry["reply_count"] = len(replies)
        entry["latest_reply"] = replies[-1].ts
    return entry


def _within(ts: Decimal, oldest: Decimal | None, latest: Decimal | None, *, inclusive: bool) -> bool:
    if oldest is not None and (ts < oldest or (ts == oldest and not inclusive)):
        return False
    return latest is None or ts < latest or (ts == latest and inclusive)


def _scope_for(channel: Channel, access: str) -> str:
    prefix = "im" if channel.is_im else "groups" if channel.is_private else "channels"
    return f"{prefix}:{access}"


def conversations_members(ws: Workspace, params: JsonDict) -> JsonDict:
    channel = ws.visible_channel(params.get("channel"))
    ws.require_scope(_scope_for(channel, "read"))
    limit = limit_param(params.get("limit"), default=100, maximum=MAX_MEMBERS_LIMIT)
    members = ws.member_list(channel)
    start = int(decode_cursor(str(params["cursor"]), "offset")) if params.get("cursor") else 0
    page = members[start : start + limit]
    more = start + limit < len(members)
    return {
        "members": page,
        "response_metadata": {"next_cursor": encode_cursor("offset", str(start + limit)) if more else ""},
    }


def conversations_info(ws: Workspace, params: JsonDict) -> JsonDict:
    channel = ws.visible_channel(params.get("channel"))
    ws.require_scope(_scope_for(channel, "read"))
    info: JsonDict = {
        "id": channel.id,
        "name": channel.name,
        "is_channel": not channel.is_private and not channel.is_im,
        "is_group": channel.is_private,
        "is_im": channel.is_im,
        "is_private": channel.is_private or channel.is_im,
        "is_archived": False,
        "is_general": False,
        "is_member": channel.bot_is_member,
        "created": channel.created,
        "context_team_id": ws.team_id,
    }
    if truthy(params.get("include_num_members")):
        info["num_members"] = len(ws.member_list(channel))
    return {"channel": info}


def users_info(ws: Workspace, params: JsonDict) -> JsonDict:
    ws.require_scope("users:read")
    user = ws.users.get(str(params.get("user", "")))
    if user is None:
        raise Refusal("user_not_found")
    # Slack says a user's language only when asked (include_locale), as the real users.info does.
    locale = {"locale": user.locale} if truthy(params.get("include_locale")) else {}
    return {
        "user": {
            **locale,
            "id": user.id,
            "team_id": ws.team_id,
            "name": user.name,
            "deleted": False,
            "real_name": user.real_name,
            "tz": "Europe/Paris",
            "is_admin": user.is_admin,
            "is_owner": user.is_owner,
            "is_primary_owner": False,
            "is_restricted": False,
            "is_ultra_restricted": False,
            "is_bot": user.is_bot,
            "is_app_user": False,
            "profile": {"real_name": user.real_name, "display_name": user.name, "team": ws.team_id},
        }
    }


def usergroups_users_list(ws: Workspace, params: JsonDict) -> JsonDict:
    ws.require_scope("usergroups:read")
    group = ws.usergroups.get(str(params.get("usergroup", "")))
    if group is None:
        raise Refusal("no_such_subteam")
    return {"users": list(group[0])}


# ---------------------------------------------------------------------- views


def _trigger_of(ws: Workspace, params: JsonDict) -> Trigger:
    return ws.usable_trigger(str(params.get("trigger_id") or params.get("interactivity_pointer") or ""))


def views_open(ws: Workspace, params: JsonDict) -> JsonDict:
    trigger = _trigger_of(ws, params)
    view = view_param(params, kind="modal")
    external_id = str(view.get("external_id") or "")
    if external_id and external_id in ws.external_ids:
        raise Refusal("duplicate_external_id")
    trigger.used = True
    view_id = ws.new_view_id()
    stored = ws.store_view(view, view_id=view_id, root_view_id=view_id, previous_view_id=None)
    ws.view_stacks[view_id] = [view_id]
    ws.last_root_view = view_id
    return {"view": copy.deepcopy(stored)}


def views_push(ws: Workspace, params: JsonDict) -> JsonDict:
    trigger = _trigger_of(ws, params)
    # A trigger from an interaction inside a modal names that modal; otherwise push onto the latest one opened.
    root = ws.root_for(trigger.view_id) if trigger.view_id else ws.last_root_view
    if root is None or root not in ws.view_stacks:
        raise Refusal("not_found")
    view = view_param(params, kind="modal")
    stack = ws.view_stacks[root]
    if len(stack) >= MAX_VIEW_STACK:
        raise Refusal("push_limit_reached")
    trigger.used = True
    view_id = ws.new_view_id()
    stored = ws.store_view(view, view_id=view_id, root_view_id=root, previous_view_id=stack[-1])
    stack.append(view_id)
    return {"view": copy.deepcopy(stored)}


def views_update(ws: Workspace, params: JsonDict) -> JsonDict:
    view_id = str(params.get("view_id") or "")
    external_id = str(params.get("external_id") or "")
    if not view_id and not external_id:
        raise Refusal("invalid_arguments", response_metadata={"messages": ["[ERROR] view_id or external_id"]})
    if not view_id:
        view_id = ws.external_ids.get(external_id, "")
    current = ws.views.get(view_id)
    if current is None:
        raise Refusal("not_found")
    if params.get("hash") and params["hash"] != current["hash"]:
        raise Refusal("hash_conflict")
    view = view_param(params, kind=current["type"])
    view.setdefault("external_id", current["external_id"])
    stored = ws.store_view(
        view,
        view_id=view_id,
        root_view_id=current["root_view_id"],
        previous_view_id=current["previous_view_id"],
        state=current["state"],
    )
    return {"view": copy.deepcopy(stored)}


def views_publish(ws: Workspace, params: JsonDict) -> JsonDict:
    user_id = str(params.get("user_id") or "")
    if not user_id:
        raise Refusal("invalid_arguments", response_metadata={"messages": ["[ERROR] missing user_id"]})
    current_id = ws.home_views.get(user_id)
    if params.get("hash") and (current_id is None or params["hash"] != ws.views[current_id]["hash"]):
        raise Refusal("hash_conflict")
    view = view_param(params, kind="home")
    view_id = current_id or ws.new_view_id()
    stored = ws.store_view(view, view_id=view_id, root_view_id=None, previous_view_id=None)
    ws.home_views[user_id] = view_id
    return {"view": copy.deepcopy(stored)}


METHODS: Mapping[str, Method] = {
    "auth.test": auth_test,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "chat.getPermalink": chat_get_permalink,
    "conversations.history": conversations_history,
    "conversations.replies": conversations_replies,
    "conversations.members": conversations_members,
    "conversations.info": conversations_info,
    "users.info": users_info,
    "usergroups.users.list": usergroups_users_list,
    "views.open": views_open,
    "views.update": views_update,
    "views.push": views_push,
    "views.publish": views_publish,
}


# ---------------------------------------------------------------------- response URLs


def apply_response(ws: Workspace, bound: ResponseUrl, payload: JsonDict) -> None:
    """What `respond()` posting `payload` to a response_url bound to `bound` does, as Slack applies it."""
    original = ws.find_message(bound.channel, bound.message_ts) if bound.message_ts else None
    blocks = payload.get("blocks") if isinstance(payload.get("blocks"), list) else []
    text = str(payload.get("text") or "")
    if truthy(payload.get("delete_original")):
        if original is not None:
            ws.messages[bound.channel].remove(original)
        return
    if truthy(payload.get("replace_original")) and original is not None:
        original.text, original.blocks = text, copy.deepcopy(blocks)
        ws.mark_edited(original)
        return
    if payload.get("response_type") == "in_channel":
        ws.add_message(
            StoredMessage(
                channel=bound.channel,
                ts=ws.next_ts(),
                text=text,
                blocks=copy.deepcopy(blocks),
                metadata=None,
                thread_ts=str(payload["thread_ts"]) if payload.get("thread_ts") else None,
                user=ws.bot_user_id,
                bot_id=ws.bot_id,
                team=ws.team_id,
            )
        )
        return
    # Otherwise a response is ephemeral, seen only by the user who interacted.
    ws.ephemerals.append(
        {
            "channel": bound.channel,
            "user": bound.user,
            "text": text,
            "blocks": copy.deepcopy(blocks),
            "thread_ts": None,
            "message_ts": ws.next_ts(),
            "source": "response_url",
        }
    )
