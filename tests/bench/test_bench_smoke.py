"""The loopback benchmarks run end to end in ``--quick`` mode and print their tables.

Figures are not asserted (benchmarks measure, they do not pass or fail on timing); what is checked is that
each script drives the real stack, counts what it should and prints every table a reader looks for.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


Loader = Callable[[str], ModuleType]


@pytest.fixture
def load_bench(monkeypatch: pytest.MonkeyPatch) -> Loader:
    """Import a bench/ script as a module, with bench/ on sys.path as when it runs as a script."""
    monkeypatch.syspath_prepend(str(BENCH))

    def load(name: str) -> ModuleType:
        spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up while executing
        spec.loader.exec_module(module)
        return module

    return load


def row(output: str, label: str) -> list[str]:
    """The cells of the table row starting with ``label`` (cells are separated by two spaces or more)."""
    for line in output.splitlines():
        if line.strip().startswith(label):
            return [cell for cell in re.split(r"\s{2,}", line.strip()) if cell]
    raise AssertionError(f"no row {label!r} in:\n{output}")


def test_common_percentile_is_nearest_rank(load_bench: Loader) -> None:
    common = load_bench("_common")
    samples = [float(n) for n in range(1, 201)]
    assert common.percentile(samples, 50) == 100.0
    assert common.percentile(samples, 99) == 198.0
    assert common.percentile([7.0], 99) == 7.0
    with pytest.raises(ValueError, match="no samples"):
        common.percentile([], 50)


def test_common_table_aligns_columns_and_formats_numbers(load_bench: Loader) -> None:
    common = load_bench("_common")
    table = common.Table("Title", ["", "count", "ms"], decimals=2)
    table.add("a label", 1234, 3.14159)
    table.add("b", None, 10.0)
    lines = table.render().splitlines()
    assert lines[:2] == ["Title", "====="]
    assert lines[3].split() == ["-------", "-----", "-----"]
    assert lines[4] == "a label  1,234   3.14"
    assert lines[5] == "b            -  10.00"
    with pytest.raises(ValueError, match="cells"):
        table.add("short row", 1)


def test_common_quick_mode_keeps_sizes_given_on_the_command_line(load_bench: Loader) -> None:
    common = load_bench("_common")
    parser = common.make_parser("doc")
    parser.add_argument("--orders", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=10)
    args = common.parse(parser, ["--quick", "--samples", "4"], {"orders": 20, "samples": 3})
    assert (args.orders, args.samples) == (20, 4)
    assert common.parse(parser, [], {"orders": 20}).orders == 1000


def test_poll_bench_counts_rakuten_and_slack_calls(load_bench: Loader, capsys: pytest.CaptureFixture[str]) -> None:
    assert load_bench("poll").main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "Poll over 32 open orders (30 awaiting shipment + 2 to accept), loopback" in out
    first = row(out, "first poll, one card per order")
    # wall ms, Rakuten calls, by action, Slack calls, by method, cards posted
    by_action = dict(part.rsplit(" ", 1) for part in first[3].split(", "))
    assert by_action.pop("getnewsales") == by_action.pop("getcurrentsales") == "1"
    assert set(by_action) <= {"getshippinginformation", "getbillinginformation"}  # details, a few per poll
    assert int(first[2]) == 2 + sum(int(count) for count in by_action.values())
    assert first[4:] == ["32", "chat.postMessage 32", "32"]
    burst = row(out, "first poll, burst threshold 20")
    assert burst[-3:] == ["33", "chat.postMessage 33", "32"]  # the summary message, then 32 cards in its thread
    idle = row(out, "idle poll, nothing new")
    assert idle[2] == "2"
    assert idle[-3:] == ["0", "-", "0"]
    assert row(out, "baseline: raw Rakuten fetch alone")[2] == "2"
    assert "The raw fetch returned 32 sales." in out
    memory = out.split("Peak traced Python memory", 1)[1]
    assert float(row(memory, "first poll, one card per order")[-1]) > 0  # peak MB while 32 cards were built
    assert float(row(memory, "baseline: raw Rakuten fetch alone")[-1]) > 0


def test_alert_latency_bench_reports_every_sample(load_bench: Loader, capsys: pytest.CaptureFixture[str]) -> None:
    assert load_bench("alert_latency").main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "Alert latency: order appears on Rakuten -> its card in Slack (poll every 0.5 s" in out
    assert row(out, "order appears -> card reaches Slack")[1] == "3"
    assert row(out, "of which: waiting for the next poll")[1] == "3"
    assert row(out, "baseline: interval/2 + one poll (expected)")[1] == "-"
    samples = re.search(r"Samples \(s\): (.+)", out)
    assert samples is not None
    values = [float(value) for value in samples.group(1).split(", ")]
    assert len(values) == 3
    assert all(value > 0 for value in values)


def test_ack_latency_bench_times_clicks_on_the_bot_in_its_own_process(
    load_bench: Loader, capsys: pytest.CaptureFixture[str]
) -> None:
    assert load_bench("ack_latency").main(["--quick"]) == 0
    out = capsys.readouterr().out
    assert "Ack latency, the bot as its own process (HTTP mode): 20 requests a row, in bursts of 5 sent at once" in out
    # n, p50, p90, p99, max, non-200, bot CPU ms/req, modals, modal p50, modal p99
    for label in ("baseline: GET /healthz, 5 at once", "GET /healthz, 5 at once, during a poll"):
        cells = row(out, label)
        assert (cells[1], cells[6], cells[8:]) == ("20", "0", ["-", "-", "-"])
    for label in (
        "baseline: Mark shipped, one at a time",
        "Mark shipped, 5 at once, idle",
        "Mark shipped, 5 at once, during a poll",
    ):
        cells = row(out, label)
        assert (cells[1], cells[6], cells[8]) == ("20", "0", "20/20")  # every click acked, every modal opened
        assert float(cells[7]) > 0  # the bot's CPU was read from its own process
        assert 0 < float(cells[9]) <= float(cells[10]) < 3000  # each modal opened within the trigger's life
    notes = " ".join(out.split())  # the notes wrap
    assert re.search(r"its first poll posted 41 cards in [\d.]+ s; requests overlapping it: \d+ of 20", notes)
    assert "Ship submit -> Rakuten received the tracking (3 orders, one at a time), ms" in out
    assert row(out, "submit -> every item's settrackingpackageinfos")[1] == "3"
    assert row(out, "baseline: one direct settrackingpackageinfos call")[1] == "3"
