"""benchmarks/bench_dask.py runs end to end at its smoke size and prints its table."""

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_dask.py"


@pytest.mark.timeout(400)
@pytest.mark.slow
def test_bench_dask_smoke():
    pytest.importorskip("distributed")
    done = subprocess.run(
        [sys.executable, str(BENCH), "--smoke"], capture_output=True, text=True, timeout=360
    )
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    header = next(line for line in lines if line.startswith("| run"))
    for column in ("seconds", "speed-up vs (a)", "speed-up vs (b)", "same scores as (b)"):
        assert column in header
    rows = [line for line in lines if line.startswith("| (")]
    assert [row.split("|")[1].strip()[:3] for row in rows] == ["(a)", "(b)", "(c)", "(d)", "(e)"]
    # On single-thread Dask workers every fit is bit-identical to its local one-thread twin.
    for row in rows[3:]:
        assert row.rstrip(" |").endswith("yes"), row
