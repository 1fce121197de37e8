"""What the loopback benchmarks share: percentiles, a plain-text table, peak memory, a local stack, ``--quick``.

The benchmarks measure; they never assert a timing. Each one prints its figures next to a baseline measured
in the same run, so a reader can tell the bot's own cost from the machine's.
"""

from __future__ import annotations

import argparse
import logging
import statistics
import tempfile
import textwrap
import time
import tracemalloc
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from bot.domain.accounts import AccountRecord
from devkit.local_stack import LocalStack, StackOptions

T = TypeVar("T")
NOTE_WIDTH = 110
Cell = str | int | float | None


# ---------------------------------------------------------------------------------------------- statistics


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: always one of the samples, so p99 of 200 samples is the second largest."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True, slots=True)
class Distribution:
    count: int
    minimum: float
    mean: float
    p50: float
    p90: float
    p95: float
    p99: float
    maximum: float

    @classmethod
    def of(cls, samples: Sequence[float]) -> Distribution:
        return cls(
            count=len(samples),
            minimum=min(samples),
            mean=statistics.fmean(samples),
            p50=percentile(samples, 50),
            p90=percentile(samples, 90),
            p95=percentile(samples, 95),
            p99=percentile(samples, 99),
            maximum=max(samples),
        )


# ------------------------------------------------------------------------------------------------- output


@dataclass
class Table:
    """A titled plain-text table: first column left-aligned (labels), the others right-aligned."""

    title: str
    columns: Sequence[str]
    decimals: int = 1
    rows: list[list[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, label: str, *cells: Cell) -> None:
        if len(cells) != len(self.columns) - 1:
            raise ValueError(f"row {label!r} has {len(cells)} cells for {len(self.columns) - 1} value columns")
        self.rows.append([label, *(self._format(cell) for cell in cells)])

    def gap(self) -> None:
        self.rows.append([])

    def note(self, text: str) -> None:
        self.notes.append(text)

    def render(self) -> str:
        filled = [row for row in self.rows if row]
        widths = [max(len(str(column)), *(len(row[i]) for row in filled)) for i, column in enumerate(self.columns)]
        lines = [self.title, "=" * len(self.title), self._line(list(self.columns), widths)]
        lines.append("  ".join("-" * width for width in widths))
        lines.extend(self._line(row, widths) if row else "" for row in self.rows)
        if self.notes:
            lines.append("")
            lines.extend(textwrap.fill(note, width=NOTE_WIDTH) for note in self.notes)
        return "\n".join(lines)

    def _format(self, cell: Cell) -> str:
        if cell is None:
            return "-"
        if isinstance(cell, float):
            return f"{cell:,.{self.decimals}f}"
        if isinstance(cell, int):
            return f"{cell:,}"
        return cell

    @staticmethod
    def _line(cells: list[str], widths: list[int]) -> str:
        first, *rest = cells
        parts = [first.ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(rest, widths[1:], strict=True))]
        return "  ".join(parts).rstrip()


def counts(values: Iterable[str | None]) -> str:
    """``getcurrentsales 20, getnewsales 1``: a per-kind count, most frequent first; ``-`` when empty."""
    counted = Counter(value or "?" for value in values)
    return ", ".join(f"{name} {count}" for name, count in counted.most_common()) or "-"


# ------------------------------------------------------------------------------------------------ measuring


def timed(action: Callable[[], T]) -> tuple[T, float]:
    """(result, wall seconds)."""
    started = time.perf_counter()
    result = action()
    return result, time.perf_counter() - started


def peak_memory(action: Callable[[], T]) -> tuple[T, int]:
    """(result, peak bytes of Python allocations above the starting level while ``action`` ran).

    tracemalloc sees every thread, so in-process servers (the simulator, the Slack stand-in) count too;
    callers measure a baseline the same way to tell them apart. Tracing slows code down: time separately.
    """
    already_tracing = tracemalloc.is_tracing()
    if not already_tracing:
        tracemalloc.start()
    tracemalloc.reset_peak()
    start_level = tracemalloc.get_traced_memory()[0]
    try:
        result = action()
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        if not already_tracing:
            tracemalloc.stop()
    return result, max(0, peak - start_level)


def megabytes(size: int) -> float:
    return size / 1_000_000


# ------------------------------------------------------------------------------------------------ the stack


@contextmanager
def local_stack(*, seed: int = 7, poll_seconds: float = 2.0, **tuning: Any) -> Iterator[LocalStack]:
    """A started LocalStack on a fresh temp data dir; ``tuning`` overrides fields of the stack's Tuning."""
    options = StackOptions(seed=seed, poll_seconds=poll_seconds, serve_like_production=True)
    if tuning:
        options = replace(options, tuning=replace(options.tuning, **tuning))
    with tempfile.TemporaryDirectory(prefix="rakuten-bench-") as tmp, LocalStack(Path(tmp) / "data", options) as stack:
        yield stack


def connect_account(stack: LocalStack, login: str, token: str, channel: str) -> None:
    """A further seller account on the simulator, connected to the running bot as ``RAKUTEN_LOGIN`` would be."""
    stack.simulator.add_account(login, token)
    bot = stack.bot
    bot.store.save_account(
        AccountRecord(
            login=login,
            token_ciphertext=bot.cipher.encrypt(token),
            channel_id=channel,
            connected_by="benchmark",
            connected_at=bot.clock(),
        )
    )


# ---------------------------------------------------------------------------------------------- arguments


def make_parser(doc: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--quick", action="store_true", help="tiny sizes: checks the script runs end to end, figures mean little"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated orders (default 7)")
    parser.add_argument("--verbose", action="store_true", help="show the bot's warnings while measuring")
    return parser


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None, quick: dict[str, Any]) -> argparse.Namespace:
    """Parse ``argv``; with ``--quick``, the sizes in ``quick`` replace any not given on the command line."""
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in quick.items():
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)
    # The bot's own warnings (a slow Slack call, a retry) would break up the tables; --verbose shows them.
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.ERROR, format="%(levelname)s %(name)s: %(message)s"
    )
    return args
