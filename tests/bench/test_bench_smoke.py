"""`make bench` at smoke sizes: every figure is measured and written, whatever it comes to.

The figures themselves are not asserted (no timing in tests); what is checked is that the
harness still runs end to end against the platform as it is, so that a change cannot quietly
break the benchmark that judges it."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.bench_smoke

KEYS = {
    "api_overhead",
    "rls_cost",
    "scale_invoices",
    "scale_queue",
    "queries_per_page",
    "screening",
    "bulk_import",
}


def test_the_benchmark_runs_end_to_end_at_smoke_sizes(tmp_path):
    if not os.environ.get("REDIS_URL", "").startswith("redis://"):
        pytest.skip("the benchmark needs PostgreSQL and Redis (make test sets them)")
    output = tmp_path / "smoke.json"
    env = {
        **os.environ,
        "BENCH_DATABASE": f"scf_bench_smoke_{uuid.uuid4().hex[:6]}",
        "BENCH_REDIS_URL": os.environ.get("BENCH_SMOKE_REDIS_URL", "redis://127.0.0.1:6379/10"),
    }
    env.pop("TEST_DATABASE_NAME", None)
    completed = subprocess.run(  # noqa: S603
        [sys.executable, "bench/run.py", "--requests", "20", "--seconds", "2", "--rounds", "1"]
        + ["--screen", "6", "--import-rows", "300", "--scale-small", "300"]
        + ["--scale-large", "900", "--output", str(output)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    result = json.loads(output.read_text())
    items = {item["key"]: item for item in result["items"]}
    assert set(items) == KEYS
    for item in items.values():
        assert item["a"]["value"] > 0 and item["b"]["value"] > 0, item
        assert isinstance(item["passed"], bool)
    # The import is also set against the invoice rows alone: the most any import could reach.
    assert items["bulk_import"]["details"]["invoice_rows_alone_seconds"] > 0
    assert "meet their goal" in completed.stdout
