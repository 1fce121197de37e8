"""HTTP mode: Slack's Request URL (``POST /slack/events``), ``GET /healthz`` and ``GET /readyz`` on a production WSGI
server.

Waitress serves requests on a thread pool, so a slow listener never holds up the next request's ack. The
Request URL is public: before Bolt sees a request, its body is bounded and its Slack signature checked
(bot.slack.request_guard), refusals are logged one short line at a time (bot.slack.rejection_log), and idle
connections are closed so that a crowd of them cannot take every connection slot.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
from slack_bolt.request import BoltRequest
from waitress import wasyncore
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server
from waitress.task import ErrorTask
from waitress.utilities import RequestEntityTooLarge

from bot.logging_setup import quiet_bolt_request_verification
from bot.slack.rejection_log import RejectionLog
from bot.slack.request_guard import (
    BODY_LIMIT,
    Rejection,
    declared_length_rejection,
    is_ssl_check,
    read_payload,
    signature_rejection,
)
from bot.slack.thread_pool import ThreadPool

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
# Connections beyond what the descriptors left after this many can hold would fail at accept() instead.
_RESERVED_FDS = 128
_POOL_START_TIMEOUT = 5.0


@dataclass(frozen=True)
class ServerLimits:
    """How many connections the server holds and how long an idle one may stay (whole seconds, as waitress
    counts them). An idle connection is one with no complete request: connected and silent, or a header
    sent in part. Slack sends each request at once, so a short timeout costs it nothing."""

    connection_limit: int = 1000
    channel_timeout: int = 15
    cleanup_interval: int = 5  # how often idle connections are looked for: they go after up to timeout + this

    def within_fd_limit(self) -> ServerLimits:
        """The same limits with no more connections than this process's open-files limit holds. A connection
        takes one descriptor, and another while a body over 512 KB waits in a temporary file: two each."""
        soft = _open_files_limit()
        if soft is None:
            return self
        affordable = max(16, (soft - _RESERVED_FDS) // 2)
        return replace(self, connection_limit=min(self.connection_limit, affordable))


class SlackWsgiApp:
    """Bolt's WSGI adapter for Slack's path behind a guard, plus a health check that says whether polling is
    alive and a readiness check for a load balancer (``ready``; without it, the health check answers there too).
    Only requests Slack signed, of bounded size and readable shape, reach Bolt."""

    def __init__(
        self,
        app: App,
        health: Callable[[], tuple[bool, dict]],
        *,
        signing_secret: str,
        rejections: RejectionLog | None = None,
        clock: Callable[[], float] = time.time,
        ready: Callable[[], tuple[bool, dict]] | None = None,
    ) -> None:
        if not signing_secret:
            raise ValueError("HTTP mode needs Slack's signing secret to verify requests")
        self._app = app
        self._slack = SlackRequestHandler(app, path=EVENTS_PATH)
        self._health = health
        self._ready = ready or health
        self._signing_secret = signing_secret
        self.rejections = rejections or RejectionLog(logger)
        self._clock = clock
        # Bolt's own check stays on behind ours; were it ever to refuse, it would log the body at INFO.
        quiet_bolt_request_verification()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        if path in (HEALTH_PATH, READY_PATH) and method in ("GET", "HEAD"):
            healthy, detail = (self._health if path == HEALTH_PATH else self._ready)()
            body = json.dumps({"status": "ok" if healthy else "unhealthy", **detail}).encode()
            start_response(
                "200 OK" if healthy else "503 Service Unavailable",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        if path == EVENTS_PATH and method == "POST":
            return self._serve_slack(environ, start_response)
        return self._slack(environ, start_response)

    def _serve_slack(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        declared = environ.get("CONTENT_LENGTH")
        rejection = declared_length_rejection(declared)
        body = b""
        if rejection is None:
            # Never more than the declared length (PEP 3333), and without one (a chunked body) one byte more
            # than allowed: enough to tell it is too large without reading the rest.
            body = environ["wsgi.input"].read(int(declared) if declared else BODY_LIMIT + 1)
            rejection = Rejection.TOO_LARGE if len(body) > BODY_LIMIT else None
        if rejection is None and is_ssl_check(body):
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "0")])
            return [b""]
        if rejection is None:
            rejection = signature_rejection(
                self._signing_secret,
                body,
                environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
                environ.get("HTTP_X_SLACK_SIGNATURE"),
                now=self._clock(),
            )
        read = read_payload(body, environ.get("CONTENT_TYPE")) if rejection is None else rejection
        if isinstance(read, Rejection):
            self.rejections.record(read)
            return _refuse(read, start_response)
        text, payload = read
        # What Bolt's WSGI adapter would build, with the payload parsed above: a click's body is its whole card,
        # URL-encoded, and decoding it twice was a tenth of what a click costs.
        verified = {**environ, "CONTENT_LENGTH": str(len(body))}
        request = ParsedBoltRequest(
            raw_body=text,
            payload=payload,
            query=environ.get("QUERY_STRING", ""),
            headers=WsgiHttpRequest(verified).get_headers(),
        )
        answer = self._app.dispatch(request)
        response = WsgiHttpResponse(status=answer.status, headers=answer.headers, body=answer.body)
        start_response(response.status, response.get_headers())
        return response.get_body()


class ParsedBoltRequest(BoltRequest):
    """A request in HTTP mode whose body was already parsed, exactly as Bolt parses it
    (``request_guard.read_payload``): the same request as ``BoltRequest(body=raw_body, ...)``, raw body included
    for Bolt's own signature check and for copies, without parsing the body a second time."""

    def __init__(self, *, raw_body: str, payload: dict, query: str, headers: dict[str, str]) -> None:
        # Bolt takes a parsed body only in Socket Mode; everything else its constructor does is the same.
        super().__init__(body=payload, query=query, headers=headers, mode="socket_mode")  # type: ignore[arg-type]
        self.raw_body = raw_body
        self.mode = "http"


def _refuse(rejection: Rejection, start_response: StartResponse) -> list[bytes]:
    start_response(
        rejection.status_line,
        [("Content-Type", "text/plain"), ("Content-Length", str(len(rejection.body)))],
    )
    return [rejection.body]


class HttpServer:
    def __init__(
        self,
        wsgi_app: SlackWsgiApp,
        *,
        host: str = "0.0.0.0",  # noqa: S104 - Slack must reach it
        port: int = 3000,
        listener: socket.socket | None = None,
        threads: int = 16,
        limits: ServerLimits | None = None,
    ) -> None:
        """Serve on ``listener`` when given (a socket already listening, which ``rakuten-bot run`` takes before
        anything else so that a busy PORT is reported first), else on ``host``:``port``."""
        self.limits = (limits or ServerLimits()).within_fd_limit()
        self._rejections = wsgi_app.rejections
        where: dict[str, Any] = {"sockets": [listener]} if listener is not None else {"host": host, "port": port}
        self._pool = ThreadPool(threads)
        self._server = create_server(
            wsgi_app,
            _dispatcher=self._pool,
            **where,
            threads=threads,
            ident="rakuten-bot",
            connection_limit=self.limits.connection_limit,
            channel_timeout=self.limits.channel_timeout,
            cleanup_interval=self.limits.cleanup_interval,
            # Waitress reads a whole body before the app sees it: it stops at the limit and answers 413 itself.
            # (It refuses a length equal to its setting, hence the + 1.)
            max_request_body_size=BODY_LIMIT + 1,
            max_request_header_size=64 * 1024,
            # select() cannot watch descriptors numbered 1024 and up, which a thousand connections reach.
            asyncore_use_poll=True,
        )
        if not isinstance(self._server, BaseWSGIServer):  # several listening sockets: not how the bot listens
            raise ValueError("HttpServer listens on one address")
        self._server.channel_class = _channel_class(self._rejections)
        self._looping = threading.Event()
        self._closed = False

    @property
    def port(self) -> int:
        return int(self._server.effective_port)  # type: ignore[union-attr]

    def serve_forever(self) -> None:
        logger.info(
            "HTTP mode: listening on port %d (%s, %s); up to %d connections, idle ones closed after %ds",
            self.port,
            EVENTS_PATH,
            HEALTH_PATH,
            self.limits.connection_limit,
            self.limits.channel_timeout,
        )
        # Connections wait in the listening socket's backlog meanwhile (a few milliseconds at most).
        if not self._pool.wait_until_idle(timeout=_POOL_START_TIMEOUT):
            logger.debug("the request threads were not all waiting for work after %gs", _POOL_START_TIMEOUT)
        self._looping.set()
        try:
            self._server.run()
        finally:
            self._looping.clear()

    def close(self) -> None:
        """Stop serving: requests in progress finish, then the sockets close on the serving thread itself.

        Closing them from another thread, under the loop's select() or a request thread's wake-up write,
        fails with EBADF in that thread; waitress's trigger runs the close inside the loop instead.
        """
        if self._closed:
            return
        self._closed = True
        server = self._server
        server.task_dispatcher.shutdown()
        if self._looping.is_set():
            server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
        else:
            server.close()
        self._rejections.flush()


def _channel_class(rejections: RejectionLog) -> type[HTTPChannel]:
    """Waitress's connection class, with the requests waitress itself refuses (too large, not HTTP) counted in
    the rejection log and a too-large body answered with the same short text as ours."""

    class GuardedErrorTask(ErrorTask):
        def execute(self) -> None:
            too_large = isinstance(self.request.error, RequestEntityTooLarge)
            rejection = Rejection.TOO_LARGE if too_large else Rejection.BAD_HTTP
            rejections.record(rejection)
            if not too_large:
                super().execute()
                return
            self.status = rejection.status_line
            self.response_headers.append(("Content-Type", "text/plain"))
            self.set_close_on_finish()
            self.content_length = len(rejection.body)
            self.write(rejection.body)

    class GuardedChannel(HTTPChannel):
        error_task_class = GuardedErrorTask

    return GuardedChannel


def raise_open_files_limit(wanted: int = 4096) -> None:
    """Let the process hold a thousand connections where the soft limit is the usual 1024 (up to the hard limit)."""
    try:
        import resource
    except ImportError:  # not on this platform
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as error:
            logger.warning("could not raise the open-files limit to %d: %s", target, error)


def _open_files_limit() -> int | None:
    try:
        import resource
    except ImportError:
        return None
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else int(soft)
