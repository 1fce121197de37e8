"""The stand-in's HTTP side: a loopback server that routes Web API calls and response_url posts to a workspace.

It answers as Slack does: HTTP 200 with `{"ok": false, "error": ...}` for refusals (unknown method, missing or
wrong token, a method's own refusal), 429 with `Retry-After` for an injected rate limit. Every Web API call is
recorded, refused or not, without its token.
"""

from __future__ import annotations

import contextlib
import json
import logging
import secrets
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from devkit.block_kit_limits import message_problems
from devkit.slack_standin.methods import METHODS, apply_response
from devkit.slack_standin.workspace import ApiCall, Hold, JsonDict, Refusal, Workspace

logger = logging.getLogger(__name__)

RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_LIFETIME_SECONDS = 30 * 60

_API_PREFIX = "/api/"
_RESPONSE_PREFIX = "/response/"
# Fields a form-encoded body carries as JSON strings; decoded so methods and recorded calls see objects.
_JSON_FIELDS = ("blocks", "attachments", "metadata", "view")


class StandInServer:
    """Serves one workspace on an ephemeral loopback port, from a background thread, between start and stop."""

    def __init__(self, workspace: Workspace) -> None:
        self._workspace = workspace
        self._lock = threading.Lock()
        self._http: _HttpServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            if self._http is not None:
                return
            self._http = _HttpServer(self._workspace)
            self._thread = threading.Thread(
                target=self._http.serve_forever, name="slack-standin", kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()

    def stop(self) -> None:
        with self._lock:
            http, thread = self._http, self._thread
            self._http, self._thread = None, None
        if http is None:
            return
        http.shutdown()
        http.server_close()
        if thread is not None:
            thread.join(timeout=5)

    @property
    def base_url(self) -> str:
        with self._lock:
            if self._http is None:
                raise RuntimeError("the Slack stand-in is not started")
            host, port = self._http.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return self.base_url + _API_PREFIX

    @property
    def response_url_base(self) -> str:
        return self.base_url + _RESPONSE_PREFIX


@dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes
    headers: Mapping[str, str]


class _RateLimited(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__("ratelimited")
        self.retry_after = retry_after


class _HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    # socketserver's default backlog of 5 drops connections when the app's thread pools call at once.
    request_queue_size = 128

    def __init__(self, workspace: Workspace) -> None:
        super().__init__(("127.0.0.1", 0), _RequestHandler)
        self.workspace = workspace

    def handle_error(self, request: object, client_address: object) -> None:
        # A client hanging up mid-request is routine in tests; keep stderr quiet.
        logger.debug("Slack stand-in: error while serving %s", client_address, exc_info=True)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _HttpServer
    server_version = "SlackStandIn/1.0"

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        workspace = self.server.workspace
        if parts.path.startswith(_API_PREFIX) and _offline(workspace, parts.path[len(_API_PREFIX) :]):
            self.close_connection = True  # not a byte of answer: the client sees the connection drop
            return
        if parts.path.startswith(_API_PREFIX):
            reply = _serve_api(workspace, parts.path[len(_API_PREFIX) :], headers, parts.query, body)
            if reply is None:
                self.close_connection = True  # carried out, and not a byte of answer (a held call that drops)
                return
        elif parts.path.startswith(_RESPONSE_PREFIX) and self.command == "POST":
            reply = _serve_response_url(workspace, parts.path[len(_RESPONSE_PREFIX) :], headers, body)
        else:
            reply = _json_reply(404, {"ok": False, "error": "not_found"}, {})
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:
        logger.debug("Slack stand-in: " + format, *args)


# ---------------------------------------------------------------------- entry points


def _serve_api(ws: Workspace, method: str, headers: Mapping[str, str], query: str, body: bytes) -> _Reply | None:
    held: list[Hold] = []
    with ws.lock:
        status = 200
        reply_headers: dict[str, str] = {}
        params: JsonDict = {}
        try:
            params, token = _request_params(headers, query, body)
            answer = _answer(ws, method, token, params, held)
            if method in METHODS:
                reply_headers["x-oauth-scopes"] = ",".join(ws.scopes)
        except _RateLimited as limited:
            status = 429
            reply_headers["Retry-After"] = str(limited.retry_after)
            answer = {"ok": False, "error": "ratelimited"}
        except Refusal as refusal:
            answer = {"ok": False, "error": refusal.error, **refusal.extra}
        ws.calls.append(ApiCall(method=method, params=params, at=ws.clock(), status=status))
        ws.notify_change()
    for hold in held:  # outside the lock: the rest of the workspace keeps answering meanwhile
        hold.carried_out.set()
        hold.wait_for_release()
        if hold.drop:
            return None
    return _json_reply(status, answer, reply_headers)


def _offline(ws: Workspace, method: str) -> bool:
    """While the workspace is offline, a Web API call is recorded (status 0: no answer) and dropped."""
    with ws.lock:
        if not ws.offline:
            return False
        ws.calls.append(ApiCall(method=method, params={}, at=ws.clock(), status=0))
        ws.notify_change()
        return True


def _answer(ws: Workspace, method: str, token: str | None, params: JsonDict, held: list[Hold]) -> JsonDict:
    handler = METHODS.get(method)
    if handler is None:
        raise Refusal("unknown_method", req_method=method)
    if not token:
        raise Refusal("not_authed")
    if not secrets.compare_digest(token.encode(), ws.bot_token.encode()):
        raise Refusal("invalid_auth")
    if ws.token_revoked:
        raise Refusal("token_revoked")
    fault = ws.take_fault(method)
    if fault is not None and fault.kind == "rate_limit":
        raise _RateLimited(fault.retry_after)
    if fault is not None and fault.kind == "error":
        raise Refusal(fault.error)
    if fault is not None and fault.kind == "hold" and fault.hold is not None:
        held.append(fault.hold)
    return {"ok": True, **handler(ws, params)}


def _serve_response_url(ws: Workspace, key: str, headers: Mapping[str, str], body: bytes) -> _Reply:
    with ws.lock:
        try:
            payload = _response_url_payload(headers, body)
        except Refusal as refusal:
            return _json_reply(400, {"ok": False, "error": refusal.error}, {})
        # Recorded even when the URL is unknown or spent, so a test sees what the app tried to send.
        ws.responses.append(payload)
        ws.notify_change()
        bound = ws.response_urls.get(key)
        if bound is None:
            return _Reply(200, b"ok", {"Content-Type": "text/plain"})
        if ws.clock() - bound.issued_at > RESPONSE_URL_LIFETIME_SECONDS:
            return _json_reply(404, {"ok": False, "error": "expired_url"}, {})
        if bound.uses >= RESPONSE_URL_MAX_USES:
            return _json_reply(404, {"ok": False, "error": "used_url"}, {})
        # Slack checks a response's blocks as it checks chat.postMessage's, and answers a bad one as webhooks do:
        # 400 with the bare error name, nothing applied.
        if message_problems(payload):
            return _Reply(400, b"invalid_blocks", {"Content-Type": "text/plain"})
        bound.uses += 1
        apply_response(ws, bound, payload)
        ws.notify_change()
    return _Reply(200, b"ok", {"Content-Type": "text/plain"})


# ---------------------------------------------------------------------- request parsing


def _json_reply(status: int, answer: JsonDict, headers: Mapping[str, str]) -> _Reply:
    return _Reply(
        status,
        json.dumps(answer).encode("utf-8"),
        {"Content-Type": "application/json; charset=utf-8", **headers},
    )


def _form(encoded: str) -> JsonDict:
    return {key: values[-1] for key, values in parse_qs(encoded, keep_blank_values=True).items()}


def _request_params(headers: Mapping[str, str], query: str, body: bytes) -> tuple[JsonDict, str | None]:
    """The call's arguments (query string and body merged) and its token, taken out of the arguments."""
    params = _form(query)
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if body:
        if content_type == "application/json":
            try:
                decoded = json.loads(body)
            except (UnicodeDecodeError, json.JSONDecodeError):
                raise Refusal("invalid_json") from None
            if not isinstance(decoded, dict):
                raise Refusal("invalid_json")
            params.update(decoded)
        elif content_type in ("", "application/x-www-form-urlencoded"):
            try:
                params.update(_form(body.decode("utf-8")))
            except UnicodeDecodeError:
                raise Refusal("invalid_form_data") from None
        else:
            raise Refusal("invalid_form_data")
    for name in _JSON_FIELDS:
        if isinstance(params.get(name), str) and params[name]:
            # Left as a string when it is not JSON: the method answers with its own format error.
            with contextlib.suppress(json.JSONDecodeError):
                params[name] = json.loads(params[name])
    token = params.pop("token", None)
    authorization = headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        token = authorization[len("bearer ") :].strip()
    return params, (str(token) if token else None)


def _response_url_payload(headers: Mapping[str, str], body: bytes) -> JsonDict:
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    try:
        text = body.decode("utf-8")
        if content_type == "application/x-www-form-urlencoded":
            text = _form(text).get("payload", "")
        decoded = json.loads(text)
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Refusal("invalid_payload") from None
    if not isinstance(decoded, dict):
        raise Refusal("invalid_payload")
    return decoded
