"""The simulator as a real HTTP server on loopback, with fault injection and a request recorder.

``RakutenSimulator`` is what tests, the demo and the benchmarks drive: they add accounts and sales,
inject faults, point a client at ``url`` and read back what the client sent.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from devkit.rakuten_simulator.after_sale import AfterSaleControls, AfterSaleDesk
from devkit.rakuten_simulator.faults import (
    AUTH_ERROR_BODY,
    GATEWAY_TIMEOUT_TEXT,
    MAINTENANCE_PAGE,
    MALFORMED_BODY,
    PARAMETER_ERROR_BODY,
    QUOTA_EXCEEDED_BODY,
    SERVER_ERROR_BODY,
    SERVICE_UNAVAILABLE_TEXT,
    Fault,
    FaultPlan,
    FaultQueue,
)
from devkit.rakuten_simulator.generator import AddressMode, SaleGenerator
from devkit.rakuten_simulator.sales_ws import Reply, SalesService
from devkit.rakuten_simulator.state import (
    ItemState,
    PlatformState,
    SimItem,
    SimSale,
    SimTracking,
    paris_time,
)

logger = logging.getLogger(__name__)

SERVICE_PATH = "/sales_ws"
_TEXT_PLAIN = "text/plain; charset=us-ascii"
_TEXT_HTML = "text/html;charset=ISO-8859-1"
_GENERATED_SPAN = timedelta(days=3)
_TODO_SHARE = 0.04


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request as the simulator received it; ``params['pwd']`` is always ``"***"``."""

    action: str | None
    method: str
    params: dict[str, str]
    login: str | None
    at: datetime
    status: int
    fault: Fault | None = None


class RakutenSimulator(AfterSaleControls):
    """A stateful fake of Rakuten France's ``sales_ws``, served over HTTP on loopback.

    ``seed`` makes generated sales reproducible; ``page_size`` is how many sales a getcurrentsales page
    holds; ``clock`` gives "now" (for generated purchase dates and recorded requests): an aware datetime,
    a naive one being read as Paris time.
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        page_size: int = 100,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._host = host
        self._port = port
        self._clock = clock or _utc_now
        self._state = PlatformState()
        self._after_sale = AfterSaleDesk(self._state, clock=self._clock)
        self._service = SalesService(self._state, page_size=page_size, after_sale=self._after_sale)
        self._generator = SaleGenerator(seed)
        self._generator_lock = threading.Lock()
        self._faults = FaultQueue()
        self._recorded: list[RecordedRequest] = []
        self._recorded_changed = threading.Condition()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._page_size = page_size

    # lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> RakutenSimulator:
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        if self._stopping.is_set():
            raise RuntimeError("a stopped simulator cannot be restarted; create a new one")
        server = _Server((self._host, self._port), _Handler)
        server.simulator = self
        self._server = server
        # A short poll interval keeps stop() fast: shutdown() waits for the serving loop to notice.
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="rakuten-simulator", daemon=True
        )
        self._thread.start()
        logger.debug("Rakuten simulator listening on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving; requests held by TIMEOUT or SLOW faults are dropped at once."""
        self._stopping.set()
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> RakutenSimulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def page_size(self) -> int:
        return self._page_size

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT/``; clients append ``sales_ws``."""
        if self._server is None:
            raise RuntimeError("the simulator is not running: call start() first")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/"

    # accounts and sales -------------------------------------------------------------------------------

    def add_account(self, login: str, token: str, *, seller_id: str | None = None) -> None:
        """Create a seller account (or change an existing one's token)."""
        if seller_id is None:
            with self._generator_lock:
                seller_id = self._generator.seller_id()
        self._state.add_account(login, token, seller_id)

    def seller_id(self, login: str) -> str:
        return self._state.seller_id(login)

    def generate_sales(
        self,
        login: str,
        count: int,
        *,
        new: bool = True,
        express_ratio: float = 0.15,
        preorder_ratio: float = 0.05,
        purchase_date: datetime | None = None,
    ) -> list[str]:
        """Add ``count`` generated sales, oldest first; returns their purchase ids.

        New sales wait for acceptance (getnewsales); otherwise they are accepted and awaiting shipment
        (getcurrentsales), and a few of their items show up in the to-do list. Without ``purchase_date``
        they are spread over the three days before now; with it, they are all dated then.
        """
        if not self._state.has_account(login):
            raise ValueError(f"unknown account {login!r}: add_account() first")
        status = ItemState.TO_CONFIRM if new else ItemState.ACCEPTED
        purchaseids = []
        with self._generator_lock:
            generator = self._generator
            if purchase_date is None:
                dates = generator.purchase_dates(count, newest=self._clock(), span=_GENERATED_SPAN)
            else:
                dates = [paris_time(purchase_date)] * count
            for moment in dates:
                sale = generator.sale(
                    login=login,
                    purchaseid=self._fresh_purchaseid(),
                    purchase_date=moment,
                    new_itemid=self._fresh_itemid,
                    shipping_type=generator.shipping_type(express_ratio=express_ratio),
                    status=status,
                    preorder_ratio=preorder_ratio,
                )
                self._state.insert_sale(sale)
                purchaseids.append(sale.purchaseid)
                if not new:
                    for item in sale.items:
                        if generator.random.random() < _TODO_SHARE:
                            self._state.add_todo(item.itemid, generator.todo_causes())
        return purchaseids

    def add_sale(
        self,
        login: str,
        *,
        purchaseid: str | None = None,
        shipping_type: str = "Suivi",
        address: AddressMode = "delivery",
        items: list[dict[str, Any]] | None = None,
        new: bool = True,
        purchase_date: datetime | None = None,
        buyer: dict[str, Any] | None = None,
    ) -> str:
        """Add one sale, generated except for what is given; returns its purchase id.

        ``address`` picks the address blocks: ``delivery`` (home modes), ``relay`` (collection point and
        billing address), ``billing_only`` (prepaid modes) or ``none`` (no usable address at all).
        ``items`` are dicts of SimItem fields (``headline``, ``price``, ``itemid``, ``status``…); missing
        fields are generated. ``buyer`` may set ``login``, ``email`` and any address field.
        """
        if not self._state.has_account(login):
            raise ValueError(f"unknown account {login!r}: add_account() first")
        with self._generator_lock:
            if purchaseid is None:
                purchaseid = self._fresh_purchaseid()
            elif self._state.is_taken(purchaseid=purchaseid):
                raise ValueError(f"purchase {purchaseid} already exists")
            sale = self._generator.sale(
                login=login,
                purchaseid=purchaseid,
                purchase_date=purchase_date or self._clock(),
                new_itemid=self._fresh_itemid,
                shipping_type=shipping_type,
                address=address,
                status=ItemState.TO_CONFIRM if new else ItemState.ACCEPTED,
                items=items,
                buyer=buyer,
            )
            self._state.insert_sale(sale)
        return purchaseid

    def _fresh_purchaseid(self) -> str:
        while True:
            candidate = self._generator.purchaseid()
            if not self._state.is_taken(purchaseid=candidate):
                return candidate

    def _fresh_itemid(self) -> str:
        while True:
            candidate = self._generator.itemid()
            if not self._state.is_taken(itemid=candidate):
                return candidate

    def remove_sale(self, purchaseid: str) -> None:
        """Forget a sale, e.g. one now older than the bot's lookback window."""
        self._state.remove_sale(purchaseid)

    def sale(self, purchaseid: str) -> SimSale:
        return self._state.sale(purchaseid)

    def sales(self, login: str) -> list[SimSale]:
        """Every sale of the account, newest first."""
        return self._state.sales(login)

    def item(self, itemid: str) -> SimItem:
        return self._state.item(itemid)

    # what happens on the Rakuten site, outside the API --------------------------------------------------

    def accept_on_site(self, purchaseid: str) -> None:
        """The seller accepted the sale on the website: its items awaiting confirmation become ACCEPTED."""
        self._state.accept_all(purchaseid)

    def cancel(self, itemid: str) -> None:
        """The buyer (or Rakuten) cancelled an item not shipped yet."""
        self._state.transition(itemid, ItemState.CANCELLED)

    def ship_on_site(self, itemid: str, carrier: str, tracking_number: str) -> None:
        """The seller entered tracking on the website for an accepted item."""
        self._state.transition(itemid, ItemState.SHIPPED, tracking=SimTracking(carrier, tracking_number))

    def add_todo_item(self, itemid: str, *causes: str) -> None:
        """Put an item in getitemtodolist, e.g. ``CLAIM`` or ``UNREAD_MESSAGE_FROM_BUYER``."""
        if not causes:
            raise ValueError("give at least one cause")
        self._state.add_todo(itemid, causes)

    # faults -------------------------------------------------------------------------------------------

    def inject_fault(self, action: str | None, fault: Fault, *, times: int = 1, delay: float = 0.0) -> None:
        """Make the next ``times`` requests for ``action`` (None: any) fail with ``fault`` (-1: until cleared).

        Faults are used up in the order they were injected. ``delay`` is how long TIMEOUT holds a request
        (default 10 s) and how late SLOW answers (default 2 s).
        """
        self._faults.inject(action, fault, times=times, delay=delay)

    def clear_faults(self) -> None:
        self._faults.clear()

    # recorder -----------------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._recorded_changed:
            return list(self._recorded)

    def requests_for(self, action: str) -> list[RecordedRequest]:
        with self._recorded_changed:
            return [request for request in self._recorded if request.action == action]

    def reset_requests(self) -> None:
        with self._recorded_changed:
            self._recorded.clear()

    def wait_for_requests(self, action: str, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until ``count`` requests for ``action`` were recorded; TimeoutError otherwise."""
        with self._recorded_changed:
            done = self._recorded_changed.wait_for(
                lambda: sum(request.action == action for request in self._recorded) >= count, timeout=timeout
            )
            seen = [request for request in self._recorded if request.action == action]
        if not done:
            raise TimeoutError(f"expected {count} {action} request(s) within {timeout} s, got {len(seen)}")
        return seen

    def _record(self, request: RecordedRequest) -> None:
        with self._recorded_changed:
            self._recorded.append(request)
            self._recorded_changed.notify_all()

    # serving ------------------------------------------------------------------------------------------

    def _serve(self, method: str, path: str, params: Mapping[str, str], send: Callable[[Reply], None]) -> None:
        action = params.get("action")
        arrived = self._clock()
        if path.rstrip("/") != SERVICE_PATH:
            reply = Reply(404, b"404 Not Found\n", _TEXT_PLAIN)
            self._record(RecordedRequest(action, method, _redacted(params), params.get("login"), arrived, 404))
            send(reply)
            return
        plan = self._faults.take(action)
        reply = self._service.handle(params) if plan is None else self._faulty_reply(plan, params)
        self._record(
            RecordedRequest(
                action=action,
                method=method,
                params=_redacted(params),
                login=params.get("login"),
                at=arrived,
                status=reply.status,
                fault=plan.fault if plan is not None else None,
            )
        )
        if plan is not None and plan.fault in (Fault.TIMEOUT, Fault.SLOW) and self._stopping.wait(plan.delay):
            return  # stopped while holding the request: drop the connection unanswered
        if plan is not None and plan.fault is Fault.APPLIED_THEN_DROPPED:
            return  # carried out, never answered: the handler closes the connection (HTTP/1.0)
        send(reply)

    def _faulty_reply(self, plan: FaultPlan, params: Mapping[str, str]) -> Reply:
        fault = plan.fault
        if fault in (Fault.SLOW, Fault.APPLIED_THEN_DROPPED):
            return self._service.handle(params)
        if fault is Fault.TRUNCATED_XML:
            whole = self._service.handle(params)
            return Reply(whole.status, whole.body[: len(whole.body) // 2])
        return _FIXED_FAULT_REPLIES[fault]


_FIXED_FAULT_REPLIES: dict[Fault, Reply] = {
    Fault.AUTH_ERROR: Reply(401, AUTH_ERROR_BODY),
    Fault.QUOTA_EXCEEDED: Reply(403, QUOTA_EXCEEDED_BODY),
    Fault.SERVER_ERROR: Reply(500, SERVER_ERROR_BODY),
    Fault.SERVER_ERROR_200: Reply(200, SERVER_ERROR_BODY),
    Fault.HTTP_503: Reply(503, SERVICE_UNAVAILABLE_TEXT, _TEXT_PLAIN, (("Retry-After", "30"),)),
    Fault.TIMEOUT: Reply(504, GATEWAY_TIMEOUT_TEXT, _TEXT_PLAIN),
    Fault.MALFORMED_XML: Reply(200, MALFORMED_BODY),
    Fault.HTML_MAINTENANCE: Reply(200, MAINTENANCE_PAGE, _TEXT_HTML),
    Fault.HTML_MAINTENANCE_503: Reply(503, MAINTENANCE_PAGE, _TEXT_HTML),
    Fault.PARAMETER_ERROR: Reply(400, PARAMETER_ERROR_BODY),
}


def _redacted(params: Mapping[str, str]) -> dict[str, str]:
    return {name: "***" if name == "pwd" else value for name, value in params.items()}


def _utc_now() -> datetime:
    return datetime.now(UTC)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # The default backlog of 5 drops bursts of concurrent connections, which then retry a second later.
    request_queue_size = 128
    simulator: RakutenSimulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up on a held request is expected; keep stderr quiet.
        logger.debug("simulator: error while serving %s", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "Apache"
    sys_version = ""
    timeout = 30
    # Headers and body leave in separate writes: without TCP_NODELAY, delayed ACKs add ~40 ms per answer.
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._dispatch("GET", b"")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        form = body if "application/x-www-form-urlencoded" in (self.headers.get("Content-Type") or "") else b""
        self._dispatch("POST", form)

    def _dispatch(self, method: str, form: bytes) -> None:
        parts = urlsplit(self.path)
        params = _parse_params(parts.query.encode("latin-1", errors="replace"))
        for name, value in _parse_params(form).items():
            params.setdefault(name, value)
        self.server.simulator._serve(method, parts.path, params, self._send)

    def _send(self, reply: Reply) -> None:
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(len(reply.body)))
            for name, value in reply.headers:
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            logger.debug("simulator: client went away before the answer")

    def log_message(self, format: str, *args: Any) -> None:
        # The request line holds pwd=<token>: log only the method and path, never the query.
        path = urlsplit(getattr(self, "path", "")).path
        logger.debug("simulator: %s %s", getattr(self, "command", "?"), path)


def _parse_params(raw: bytes) -> dict[str, str]:
    """Query parameters, first value wins; UTF-8 percent-escapes, else Latin-1 (both are sent in the wild)."""
    if not raw:
        return {}
    query = raw.decode("latin-1")
    try:
        pairs = parse_qsl(query, keep_blank_values=True, encoding="utf-8", errors="strict")
    except UnicodeDecodeError:
        pairs = parse_qsl(query, keep_blank_values=True, encoding="latin-1")
    params: dict[str, str] = {}
    for name, value in pairs:
        params.setdefault(name, value)
    return params

