"""How fast getcurrentsales pages parse, against a naive ElementTree baseline, and end to end over HTTP.

Starts the bundled Rakuten simulator, generates accepted sales, downloads every getcurrentsales page
into memory, then times:

  (a) the project's parser: ``rakuten.xmlsafe.parse_xml`` + ``rakuten.parsing.parse_sales_page``
  (b) a plain ``xml.etree.ElementTree`` pass that pulls the same fields naively (no sanitising, no
      hardening, no tolerance for Rakuten's quirks): what the hardening costs or saves
  (c) fetch + parse through ``RakutenClient.get_current_sales``, the path the poller takes

Peak memory is measured with tracemalloc in a separate run, so tracing does not skew the timings.
Figures are printed, not asserted: CI does not run this as a pass/fail timing test.

    python bench/parse_sales.py [--sales 10000] [--page-size 500] [--rounds 7] [--seed 42]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
import tracemalloc
import xml.etree.ElementTree as ET
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx

from devkit.rakuten_simulator import RakutenSimulator
from rakuten.client import RakutenClient, RetryPolicy
from rakuten.parsing import parse_sales_page
from rakuten.xmlsafe import parse_xml

LOGIN = "bench-shop"
TOKEN = "bench-token"
SINCE = date(2000, 1, 1)
TARGET_SALES_PER_SECOND = 20_000
TARGET_PEAK_MB = 200
_RESPONSE_NEXTTOKEN = re.compile(rb"<response>.*?<nexttoken>([^<]*)</nexttoken>", re.DOTALL)


@dataclass(frozen=True)
class Measure:
    label: str
    sales: int
    items: int
    seconds: float
    peak_bytes: int | None = None

    @property
    def sales_per_second(self) -> float:
        return self.sales / self.seconds if self.seconds else float("inf")


# fetching -------------------------------------------------------------------------------------------


def fetch_pages(simulator: RakutenSimulator) -> list[bytes]:
    """Every getcurrentsales page as the raw bytes Rakuten would send."""
    pages: list[bytes] = []
    token = ""
    params = {
        "action": "getcurrentsales",
        "login": LOGIN,
        "pwd": TOKEN,
        "version": "2017-08-07",
        "purchasedate": SINCE.isoformat(),
    }
    with httpx.Client(timeout=60) as http:
        while True:
            response = http.get(f"{simulator.url}sales_ws", params={**params, "nexttoken": token} if token else params)
            response.raise_for_status()
            pages.append(response.content)
            match = _RESPONSE_NEXTTOKEN.search(response.content)
            token = match.group(1).decode() if match else ""
            if not token:
                return pages


# the two parsers ------------------------------------------------------------------------------------


def parse_with_project(pages: Sequence[bytes]) -> tuple[list[Any], int]:
    sales: list[Any] = []
    for body in pages:
        sales.extend(parse_sales_page(parse_xml(body, action="getcurrentsales")).sales)
    return sales, sum(len(sale.items) for sale in sales)


def parse_trees_only(pages: Sequence[bytes]) -> tuple[list[Any], int]:
    """Only the hardened XML step (``parse_xml``), to show what building the models costs on top."""
    roots = [parse_xml(body, action="getcurrentsales") for body in pages]
    sales = [sale for root in roots for sale in root.iter("sale")]
    return sales, sum(1 for root in roots for _ in root.iter("item"))


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _fields(element: ET.Element) -> dict[str, ET.Element]:
    return {_local(child.tag): child for child in element}


def _text(element: ET.Element | None) -> str | None:
    if element is None or element.text is None:
        return None
    return element.text.strip() or None


def _amount(element: ET.Element | None) -> Decimal | None:
    if element is None:
        return None
    value = _text(_fields(element).get("amount"))
    return Decimal(value) if value else None


def _address(element: ET.Element | None) -> dict[str, str | None] | None:
    if element is None:
        return None
    return {name: _text(child) for name, child in _fields(element).items()}


def parse_with_elementtree(pages: Sequence[bytes]) -> tuple[list[Any], int]:
    """The same fields, the naive way: trust the bytes, no sanitising, no quirk handling beyond strip()."""
    sales: list[dict[str, Any]] = []
    items_count = 0
    for body in pages:
        root = ET.fromstring(body)  # the input is the simulator's own output on loopback
        response = next(child for child in root if _local(child.tag) == "response")
        listing = next(child for child in response if _local(child.tag) == "sales")
        for sale in listing:
            fields = _fields(sale)
            delivery = _fields(fields["deliveryinformation"])
            items = []
            for item in fields["items"]:
                values = _fields(item)
                items.append(
                    {
                        "itemid": _text(values.get("itemid")),
                        "headline": _text(values.get("headline")),
                        "status": _text(values.get("itemstatus")),
                        "sku": _text(values.get("sku")),
                        "advertid": _text(values.get("advertid")),
                        "price": _amount(values.get("price")),
                        "advert_price": _amount(values.get("advertpricelisted")),
                        "is_preorder": _text(values.get("ispreorder")) == "Y",
                        "is_nego": _text(values.get("isnego")) == "Y",
                        "is_rsl": _text(values.get("isrsl")) == "Y",
                        "isbn": _text(values.get("isbn")),
                        "eans": tuple(code for code in (_text(values.get("ean")) or "").split(";") if code),
                        "payment_status": _text(values.get("paymentstatus")),
                    }
                )
            items_count += len(items)
            sales.append(
                {
                    "purchaseid": _text(fields.get("purchaseid")),
                    "purchase_date": datetime.strptime(_text(fields.get("purchasedate")) or "", "%d/%m/%Y-%H:%M"),
                    "shipping_type": _text(delivery.get("shippingtype")),
                    "buyer_login": _text(delivery.get("purchasebuyerlogin")),
                    "delivery_address": _address(delivery.get("deliveryaddress")),
                    "billing_address": _address(delivery.get("billingaddress")),
                    "collection_point": _address(delivery.get("collectionpointaddress")),
                    "items": items,
                }
            )
    return sales, items_count


# measuring ------------------------------------------------------------------------------------------


def best_time(
    label: str, parse: Callable[[Sequence[bytes]], tuple[list[Any], int]], pages: Sequence[bytes], rounds: int
) -> Measure:
    best = float("inf")
    sales: list[Any] = []
    items = 0
    for _ in range(rounds):
        sales = []  # each round starts from the same heap: the last round's sales would weigh on the GC
        started = time.perf_counter()
        sales, items = parse(pages)
        best = min(best, time.perf_counter() - started)
    return Measure(label, len(sales), items, best)


def peak_memory(parse: Callable[[Sequence[bytes]], tuple[list[Any], int]], pages: Sequence[bytes]) -> int:
    """Peak bytes allocated while parsing every page and keeping the parsed sales (the raw pages excluded)."""
    tracemalloc.start()
    try:
        result = parse(pages)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak


def through_client(simulator: RakutenSimulator, rounds: int) -> Measure:
    best = float("inf")
    sales: list[Any] = []
    with RakutenClient(LOGIN, TOKEN, base_url=simulator.url, timeout=60, retry=RetryPolicy(attempts=1)) as client:
        for _ in range(rounds):
            started = time.perf_counter()
            sales = client.get_current_sales(SINCE)
            best = min(best, time.perf_counter() - started)
    return Measure("(c) fetch + parse, RakutenClient", len(sales), sum(len(sale.items) for sale in sales), best)


# report ---------------------------------------------------------------------------------------------


def _row(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join(
        cell.rjust(width) if index else cell.ljust(width)
        for index, (cell, width) in enumerate(zip(cells, widths, strict=True))
    )


def print_table(measures: Sequence[Measure]) -> None:
    header = ("", "sales", "items", "seconds", "sales/s", "peak MB")
    rows = [
        (
            measure.label,
            f"{measure.sales:,}",
            f"{measure.items:,}",
            f"{measure.seconds:.3f}",
            f"{measure.sales_per_second:,.0f}",
            f"{measure.peak_bytes / 2**20:.1f}" if measure.peak_bytes is not None else "-",
        )
        for measure in measures
    ]
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    print(_row(header, widths))
    print("  ".join("-" * width for width in widths))
    for row in rows:
        print(_row(row, widths))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sales", type=int, default=10_000, help="current sales to generate (default 10000)")
    parser.add_argument("--page-size", type=int, default=500, help="sales per getcurrentsales page (default 500)")
    parser.add_argument("--rounds", type=int, default=7, help="timed repetitions; the best is kept (default 7)")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)

    with RakutenSimulator(seed=args.seed, page_size=args.page_size) as simulator:
        simulator.add_account(LOGIN, TOKEN)
        started = time.perf_counter()
        simulator.generate_sales(LOGIN, args.sales, new=False)
        generated = time.perf_counter() - started

        started = time.perf_counter()
        pages = fetch_pages(simulator)
        fetched = time.perf_counter() - started
        size = sum(map(len, pages))
        print(
            f"simulator: {args.sales:,} sales generated in {generated:.2f} s; {len(pages)} pages "
            f"({size / 2**20:.1f} MB of ISO-8859-1/windows-1252 XML) fetched over HTTP in {fetched:.2f} s\n"
        )

        project = best_time("(a) project parser (xmlsafe + parsing)", parse_with_project, pages, args.rounds)
        trees = best_time("    of which xmlsafe.parse_xml alone", parse_trees_only, pages, args.rounds)
        baseline = best_time("(b) naive xml.etree.ElementTree", parse_with_elementtree, pages, args.rounds)
        project = Measure(
            project.label, project.sales, project.items, project.seconds, peak_memory(parse_with_project, pages)
        )
        baseline = Measure(
            baseline.label, baseline.sales, baseline.items, baseline.seconds, peak_memory(parse_with_elementtree, pages)
        )
        client = through_client(simulator, args.rounds)

    print_table([project, trees, baseline, client])
    ratio = project.sales_per_second / baseline.sales_per_second
    print(f"\nproject parser vs ElementTree baseline: {ratio:.2f}x the throughput")
    meets_speed = project.sales_per_second >= TARGET_SALES_PER_SECOND
    meets_memory = project.peak_bytes is not None and project.peak_bytes < TARGET_PEAK_MB * 2**20
    print(
        f"target >= {TARGET_SALES_PER_SECOND:,} sales/s: {'met' if meets_speed else 'MISSED'}; "
        f"target < {TARGET_PEAK_MB} MB peak: {'met' if meets_memory else 'MISSED'}"
    )
    if project.sales != args.sales or client.sales != args.sales:
        print(f"WARNING: expected {args.sales:,} sales, parsed {project.sales:,} / {client.sales:,}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
