"""HTTP mode: Slack's Request URL (``POST /slack/events``) and ``GET /healthz`` on a production WSGI server.

Waitress serves requests on a thread pool, so a slow listener never holds up the next request's ack.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from waitress import wasyncore
from waitress.server import create_server

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIEnvironment

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


class SlackWsgiApp:
    """Bolt's WSGI adapter for Slack's path, plus a health check that says whether polling is alive."""

    def __init__(self, app: App, health: Callable[[], tuple[bool, dict]]) -> None:
        self._slack = SlackRequestHandler(app, path=EVENTS_PATH)
        self._health = health

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == HEALTH_PATH and environ.get("REQUEST_METHOD") in ("GET", "HEAD"):
            healthy, detail = self._health()
            body = json.dumps({"status": "ok" if healthy else "unhealthy", **detail}).encode()
            start_response(
                "200 OK" if healthy else "503 Service Unavailable",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return self._slack(environ, start_response)


class HttpServer:
    def __init__(self, wsgi_app: SlackWsgiApp, *, host: str = "0.0.0.0", port: int = 3000, threads: int = 16) -> None:  # noqa: S104 - Slack must reach it
        self._server = create_server(wsgi_app, host=host, port=port, threads=threads, ident="rakuten-bot")
        self._looping = threading.Event()
        self._closed = False

    @property
    def port(self) -> int:
        return int(self._server.effective_port)  # type: ignore[union-attr]

    def serve_forever(self) -> None:
        logger.info("HTTP mode: listening on port %d (%s, %s)", self.port, EVENTS_PATH, HEALTH_PATH)
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
