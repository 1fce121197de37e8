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
import socket
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from devkit.block_kit_limits import message_problems
from devkit.slack_standin import socket_mode
from devkit.slack_standin.methods import APP_TOKEN_METHODS, METHODS, apply_response
from devkit.slack_standin.workspace import ApiCall, Hold, JsonDict, Refusal, Workspace

logger = logging.getLogger(__name__)

RESPONSE_URL_MAX_USES = 5
RESPONSE_URL_LIFETIME_SECONDS = 30 * 60

_API_PREFIX = "/api/"
_RESPONSE_PREFIX = "/response/"
_SOCKET_PATH = "/link/"
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
            host, port = self._http.server_address[:2]
            with self._workspace.lock:
                self._workspace.socket_url_base = f"ws://{host}:{port}{_SOCKET_PATH}"
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
        http.close_sockets()
        http.shutdown()
        http.server_close()
        http.close_connections()
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
        # Open Socket Mode connections: each holds a handler thread until it ends, so stopping shuts them down.
        self._sockets_lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self.stopping = False
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def hold_socket(self, connection: socket.socket) -> bool:
        with self._sockets_lock:
            if self.stopping:
                return False
            self._sockets.add(connection)
            return True

    def release_socket(self, connection: socket.socket) -> None:
        with self._sockets_lock:
            self._sockets.discard(connection)

    def close_sockets(self) -> None:
        with self._sockets_lock:
            self.stopping = True
            held = list(self._sockets)
        for connection in held:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """End the kept-alive connections still open, so that no client goes on talking to a stopped stand-in
        (its next call opens a connection to whatever listens on the port then)."""
        with self._open_lock:
            still_open = list(self._open)
        for connection in still_open:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: object, client_address: object) -> None:
        # A client hanging up mid-request is routine in tests; keep stderr quiet.
        logger.debug("Slack stand-in: error while serving %s", client_address, exc_info=True)


class _RequestHandler(BaseHTTPRequestHandler):
    server: _HttpServer
    server_version = "SlackStandIn/1.0"
    # Keep-alive, as Slack's servers: a client may send its next call on the same connection (every answer has
    # a Content-Length). An idle connection is closed after a minute.
    protocol_version = "HTTP/1.1"
    timeout = 60
    # Headers and body leave in separate writes: on a kept connection, without TCP_NODELAY, the body waits for
    # the client's delayed ACK of the headers (~40 ms an answer).
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        if urlsplit(self.path).path == _SOCKET_PATH and self.headers.get("Upgrade", "").lower() == "websocket":
            self._serve_socket_mode()
            return
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

    def _serve_socket_mode(self) -> None:
        """The WebSocket an apps.connections.open URL leads to, until either side ends it."""
        self.close_connection = True
        ticket = _form(urlsplit(self.path).query).get("ticket", "")
        key = self.headers.get("Sec-WebSocket-Key", "")
        workspace = self.server.workspace
        with workspace.lock:
            known = ticket in workspace.socket_tickets
            workspace.socket_tickets.discard(ticket)
        if not known or not key:
            self.send_error(401 if key else 400)
            return
        if not self.server.hold_socket(self.connection):
            self.send_error(503)
            return
        try:
            self.send_response(101, "Switching Protocols")
            self.send_header("Upgrade", "websocket")
            self.send_header("Connection", "Upgrade")
            self.send_header("Sec-WebSocket-Accept", socket_mode.accept_key(key))
            self.end_headers()
            self.wfile.flush()
            record, open_count = _open_socket_record(workspace)
            try:
                socket_mode.serve_connection(
                    self.connection,
                    self.rfile,
                    greeting=socket_mode.hello_message(workspace.app_id, open_count),
                    on_text=lambda text: _received(workspace, record, text),
                )
            finally:
                with workspace.lock:
                    record.closed_at = workspace.clock()
                    record.closed_by = "server" if self.server.stopping else "client"
                    workspace.notify_change()
        finally:
            self.server.release_socket(self.connection)

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


def _open_socket_record(ws: Workspace) -> tuple[socket_mode.SocketConnection, int]:
    """The new connection's record, and how many of the app's connections are open with it (for its hello)."""
    with ws.lock:
        record = socket_mode.SocketConnection(len(ws.socket_connections) + 1, ws.clock())
        ws.socket_connections.append(record)
        ws.notify_change()
        return record, sum(connection.open for connection in ws.socket_connections)


def _received(ws: Workspace, record: socket_mode.SocketConnection, text: str) -> None:
    with ws.lock:
        record.received.append(text)
        ws.notify_change()


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
    wanted, other = (ws.app_token, ws.bot_token) if method in APP_TOKEN_METHODS else (ws.bot_token, ws.app_token)
    if secrets.compare_digest(token.encode(), other.encode()):
        raise Refusal("not_allowed_token_type")  # a real token, of the kind this method does not take
    if not secrets.compare_digest(token.encode(), wanted.encode()):
        raise Refusal("invalid_auth")
    if ws.token_revoked and method not in APP_TOKEN_METHODS:
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
