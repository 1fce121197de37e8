"""A stateful fake of Rakuten France's ``sales_ws``, served over real HTTP on loopback.

Tests, the demo and the benchmarks use it instead of the real service::

    with RakutenSimulator(seed=1) as sim:
        sim.add_account("shop", "token")
        sim.generate_sales("shop", 10)
        client = RakutenClient("shop", "token", base_url=sim.url)
"""

from devkit.rakuten_simulator.envelopes import CAPTURED, ENVELOPES, Envelope
from devkit.rakuten_simulator.faults import Fault
from devkit.rakuten_simulator.rules import ACCEPTANCE_WINDOW, ACCEPTED_CARRIERS, TRACKING_NUMBER_SHAPES
from devkit.rakuten_simulator.server import RakutenSimulator, RecordedRequest
from devkit.rakuten_simulator.state import (
    ItemState,
    SimAddress,
    SimCollectionPoint,
    SimItem,
    SimSale,
    SimTracking,
    SimulatorError,
)

# The account `python -m devkit.rakuten_simulator` (and the bot's demo) creates: invented, valid nowhere else.
DEMO_LOGIN = "boutique-demo"
DEMO_TOKEN = "demo-token-0000"

__all__ = [
    "ACCEPTANCE_WINDOW",
    "ACCEPTED_CARRIERS",
    "CAPTURED",
    "DEMO_LOGIN",
    "DEMO_TOKEN",
    "ENVELOPES",
    "TRACKING_NUMBER_SHAPES",
    "Envelope",
    "Fault",
    "ItemState",
    "RakutenSimulator",
    "RecordedRequest",
    "SimAddress",
    "SimCollectionPoint",
    "SimItem",
    "SimSale",
    "SimTracking",
    "SimulatorError",
]
