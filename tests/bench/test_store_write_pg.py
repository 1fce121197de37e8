"""``bench/store_write_pg.py --quick`` runs end to end against the real server and prints both stores' rows.

Figures are not asserted (benchmarks measure); the rows and their sample counts are."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import psycopg

from tests.postgres import require_server

ROOT = Path(__file__).resolve().parents[2]


def cells(output: str, label: str) -> list[str]:
    for line in output.splitlines():
        if line.startswith(label):
            return line[len(label) :].split()
    raise AssertionError(f"no row {label!r} in:\n{output}")


def test_store_write_bench_measures_both_stores_and_leaves_no_schema() -> None:
    url = require_server()
    done = subprocess.run(
        [sys.executable, "bench/store_write_pg.py", "--quick", "--database-url", url],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=50,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert out.startswith("Store write latency with 200 open orders: TinyDB and PostgreSQL in the same run")
    for store in ("TinyDB", "PostgreSQL"):
        assert cells(out, f"{store}: save_order (changed order)")[0] == "20"
        assert cells(out, f"{store}: update_order")[0] == "20"
        assert cells(out, f"{store}: list_orders (open, 200)")[0] == "5"
    assert cells(out, "PostgreSQL: update_order, 2 replicas at once")[0] == "20"
    assert "fsync=" in out
    with psycopg.connect(url) as conn:
        left = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'bench\\_%'").fetchone()
    assert left == (0,)
