"""A slack_sdk WebClient that keeps its HTTP connections to Slack open between calls.

slack_sdk's WebClient sends each Web API call through ``urllib.request.urlopen``, which opens a new connection
(a TCP handshake, and with TLS a full negotiation) and closes it after the answer. The bot calls Slack for
every card, every modal opened right after a click, every answer: ``KeepAliveWebClient`` sends the same
request on an HTTP/1.1 connection it keeps, one per thread and Slack host, and hands slack_sdk the same
status, headers and body ``urlopen`` would have; everything else (arguments, retries, errors) stays
slack_sdk's. A connection left idle for ``IDLE_SECONDS`` is closed rather than reused, and a kept connection
the server closed meanwhile is replaced once, at once. Through a proxy, or when Slack redirects, the call goes
through urllib as before.
"""

from __future__ import annotations

import http.client
import io
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.error import HTTPError, URLError
from urllib.request import Request

from slack_sdk import WebClient

# Kept well below the idle timeouts servers and load balancers use (60 s and more), so that a connection the
# server is about to close is seldom the one picked.
IDLE_SECONDS = 20.0
# How a connection the server closed shows, on sending or on waiting for the answer.
_CLOSED = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


@dataclass
class _Kept:
    connection: http.client.HTTPConnection
    last_used: float


class KeepAliveWebClient(WebClient):
    """``WebClient`` with persistent connections; built with the same arguments."""

    _local = threading.local()  # per thread: {(scheme, host, timeout, ssl context): _Kept}

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        if self.proxy is not None or req.type not in ("http", "https"):
            return super()._perform_urllib_http_request_internal(url, req)
        key = (req.type, req.host, self.timeout, id(self.ssl))
        kept = self._take(key)
        while True:
            connection = kept.connection if kept is not None else self._connect(req)
            try:
                response, body = _exchange(connection, req)
            except _Stale as stale:
                connection.close()
                if kept is not None:
                    kept = None  # the server closed it while it sat idle: once more, on a new connection
                    continue
                raise stale.error from stale.error.__cause__
            except BaseException:
                connection.close()
                raise
            break
        if response.will_close:
            connection.close()
        else:
            self._keep(key, connection)
        if 300 <= response.status < 400:  # urllib follows redirects; the Web API does not send any
            return super()._perform_urllib_http_request_internal(url, req)
        if not 200 <= response.status < 300:  # as urllib's HTTPErrorProcessor: slack_sdk reads the error
            raise HTTPError(req.full_url, response.status, response.reason, response.headers, io.BytesIO(body))
        if response.headers.get_content_type() == "application/gzip":
            return {"status": response.status, "headers": response.headers, "body": body}
        charset = response.headers.get_content_charset() or "utf-8"
        return {"status": response.status, "headers": response.headers, "body": body.decode(charset)}

    def _connect(self, req: Request) -> http.client.HTTPConnection:
        if req.type == "https":
            return http.client.HTTPSConnection(req.host, timeout=self.timeout, context=self.ssl)
        return http.client.HTTPConnection(req.host, timeout=self.timeout)

    @classmethod
    def _take(cls, key: tuple[Any, ...]) -> _Kept | None:
        kept: _Kept | None = cls._pool().pop(key, None)
        if kept is not None and time.monotonic() - kept.last_used > IDLE_SECONDS:
            kept.connection.close()
            return None
        return kept

    @classmethod
    def _keep(cls, key: tuple[Any, ...], connection: http.client.HTTPConnection) -> None:
        cls._pool()[key] = _Kept(connection, time.monotonic())

    @classmethod
    def _pool(cls) -> dict[tuple[Any, ...], _Kept]:
        pool = getattr(cls._local, "connections", None)
        if pool is None:
            pool = cls._local.connections = {}
        return pool


class _Stale(Exception):
    """What a kept connection the server closed meanwhile raises on reuse, before any answer came; ``error`` is
    what urllib would have raised on a fresh connection."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


def _exchange(connection: http.client.HTTPConnection, req: Request) -> tuple[http.client.HTTPResponse, bytes]:
    """Send ``req`` as urllib would (its headers, title-cased), read the whole answer; errors as urllib's."""
    headers = {name.title(): value for name, value in req.header_items()}
    try:
        connection.request(req.get_method(), req.selector, req.data, headers)
    except OSError as error:  # as urllib: a failure to send is a URLError, which slack_sdk may retry
        failure = URLError(error)
        raise (_Stale(failure) if isinstance(error, _CLOSED) else failure) from error
    try:
        response = connection.getresponse()
    except _CLOSED as error:
        raise _Stale(error) from error
    return response, response.read()


def keep_alive_client(client: WebClient) -> KeepAliveWebClient:
    """A KeepAliveWebClient built as ``client`` was: Bolt builds a plain WebClient for every request."""
    return KeepAliveWebClient(
        token=client.token,
        base_url=client.base_url,
        timeout=client.timeout,
        ssl=client.ssl,
        proxy=client.proxy,
        headers=client.headers,
        team_id=client.default_params.get("team_id"),
        logger=client.logger,
        retry_handlers=client.retry_handlers,
    )
