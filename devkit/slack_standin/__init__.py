"""A local, real HTTP stand-in for the Slack Web API methods the app calls.

`slack_sdk.WebClient(token=..., base_url=standin.api_url)` talks to it unchanged, so the demo and the
end-to-end tests run the app's real Slack code over loopback. It answers the way Slack does (HTTP 200 with
`{"ok": false, "error": ...}` for refusals, 429 with `Retry-After` when rate limited) and keeps the
workspace state a test wants to look at: messages with their edits, ephemerals, modals, Home tabs and the
bodies posted to response URLs.

- ``standin``: `SlackStandIn`, the object callers drive (fixture, faults, observation, start/stop);
- ``workspace``: the in-memory workspace state and the records it keeps (`StoredMessage`, `ApiCall`);
- ``methods``: the Web API methods served, each taking the workspace and the call's arguments;
- ``arguments``: reading and checking those arguments (Block Kit limits included) as Slack does;
- ``server``: the HTTP server: routing, token check, body parsing, injected 429s, response URLs.
"""

from devkit.slack_standin.methods import MAX_HISTORY_LIMIT, MAX_MEMBERS_LIMIT, MAX_MESSAGE_TEXT, MAX_VIEW_STACK
from devkit.slack_standin.server import RESPONSE_URL_LIFETIME_SECONDS, RESPONSE_URL_MAX_USES
from devkit.slack_standin.standin import SlackStandIn
from devkit.slack_standin.workspace import (
    DEFAULT_SCOPES,
    TRIGGER_LIFETIME_SECONDS,
    ApiCall,
    Hold,
    JsonDict,
    StoredMessage,
)

__all__ = [
    "DEFAULT_SCOPES",
    "MAX_HISTORY_LIMIT",
    "MAX_MEMBERS_LIMIT",
    "MAX_MESSAGE_TEXT",
    "MAX_VIEW_STACK",
    "RESPONSE_URL_LIFETIME_SECONDS",
    "RESPONSE_URL_MAX_USES",
    "TRIGGER_LIFETIME_SECONDS",
    "ApiCall",
    "Hold",
    "JsonDict",
    "SlackStandIn",
    "StoredMessage",
]
