"""The benchmarks still run (tiny runs; the figures themselves are not checked). Each checks
its own output before timing (every input rendered, every acknowledged submission stored), so
a change that breaks what a benchmark measures fails here rather than in a later session."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def test_sendout_benchmark_runs() -> None:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "sendout.py"), "--rows", "300", "--repeats", "1",
         "--sqlite-only"], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert completed.returncode == 0, completed.stderr
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    assert figures["rows"] == 300
    assert figures["sendout_rows_per_s"] > 0
    assert figures["baseline_rows_per_s"] > 0
    assert figures["sendout_rate_ratio"] > 0
    assert "rate ratio ours/baseline" in completed.stderr


def test_render_validate_benchmark_runs() -> None:
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "render_validate.py"), "--quick", "--repeats",
         "1"], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    assert completed.returncode == 0, completed.stderr
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    assert figures["items"] == 60
    assert figures["render_time_ratio"] > 0
    assert figures["validate_time_ratio"] > 0


def test_submit_benchmark_runs() -> None:
    """Ours and the bare app under gunicorn, 16 clients for 2 s each: no request may fail and
    every acknowledged submission must be stored (the script exits 1 otherwise)."""
    completed = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "submit.py"), "--quick", "--sqlite-only"],
        capture_output=True, text=True, timeout=300, cwd=ROOT, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    assert figures["submit_errors"] == 0
    assert figures["baseline_errors"] == 0
    assert figures["problems"] == []
    assert figures["submit_rate_ratio"] > 0
