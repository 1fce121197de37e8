"""``python -m devkit.rakuten_simulator``: serve a simulated Rakuten account until Ctrl-C.

Prints the base URL and the demo account's login and token, so a client (or the bot, via
``RAKUTEN_API_URL`` / ``RAKUTEN_LOGIN`` / ``RAKUTEN_TOKEN``) can be pointed at it.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence

from devkit.rakuten_simulator import DEMO_LOGIN, DEMO_TOKEN, ENVELOPES, RakutenSimulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devkit.rakuten_simulator", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: any free port)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated orders (default 0)")
    parser.add_argument("--orders", type=int, default=5, help="new sales awaiting acceptance (default 5)")
    parser.add_argument(
        "--current", type=int, default=10, help="accepted sales awaiting shipment (default 10)"
    )
    parser.add_argument("--page-size", type=int, default=100, help="sales per getcurrentsales page (default 100)")
    parser.add_argument(
        "--envelope",
        choices=list(ENVELOPES),
        default="captured",
        help="how answers are written: namespace, encoding, CDATA, empty forms (default captured)",
    )
    return parser


def main(argv: Sequence[str] | None = None, *, stop: threading.Event | None = None) -> int:
    args = _parser().parse_args(argv)
    if min(args.orders, args.current) < 0 or args.page_size < 1:
        print("--orders and --current must be >= 0, --page-size >= 1", file=sys.stderr)
        return 2
    simulator = RakutenSimulator(seed=args.seed, port=args.port, page_size=args.page_size, envelope=args.envelope)
    try:
        simulator.start()
    except OSError as error:
        print(f"cannot listen on port {args.port}: {error.strerror}", file=sys.stderr)
        return 1
    try:
        simulator.add_account(DEMO_LOGIN, DEMO_TOKEN)
        simulator.generate_sales(DEMO_LOGIN, args.current, new=False)
        simulator.generate_sales(DEMO_LOGIN, args.orders, new=True)
        print(f"Rakuten simulator listening on {simulator.url}", flush=True)
        print(f"  RAKUTEN_API_URL={simulator.url}")
        print(f"  RAKUTEN_LOGIN={DEMO_LOGIN}")
        print(f"  RAKUTEN_TOKEN={DEMO_TOKEN}")
        print(f"  {args.orders} new sale(s) to accept, {args.current} awaiting shipment. Ctrl-C to stop.", flush=True)
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        simulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
