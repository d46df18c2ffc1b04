"""The benchmarks still run (tiny runs; the figures themselves are not checked). Each checks
its own output before timing (every input rendered, every acknowledged submission stored), so
a change that breaks what a benchmark measures fails here rather than in a later session."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from tests.conftest import ROOT


def _run(script: str, *args: str, timeout: int = 120) -> tuple[dict[str, Any], str]:
    """Run ``bench/<script>``; its last stdout line (the JSON figures) and its stderr. A
    benchmark that fails its own checks exits non-zero, which fails the test here."""
    completed = subprocess.run([sys.executable, str(ROOT / "bench" / script), *args],
                               capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                               check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1]), completed.stderr


def test_sendout_benchmark_runs() -> None:
    figures, stderr = _run("sendout.py", "--rows", "300", "--repeats", "1", "--sqlite-only")
    assert figures["rows"] == 300
    assert figures["sendout_rows_per_s"] > 0
    assert figures["baseline_rows_per_s"] > 0
    assert figures["sendout_rate_ratio"] > 0
    assert "rate ratio ours/baseline" in stderr


def test_render_validate_benchmark_runs() -> None:
    figures, _stderr = _run("render_validate.py", "--quick", "--repeats", "1")
    assert figures["items"] == 60
    assert figures["render_time_ratio"] > 0
    assert figures["validate_time_ratio"] > 0


def test_submit_benchmark_runs() -> None:
    """Ours and the bare app under gunicorn, 16 clients for 2 s each: no request may fail and
    every acknowledged submission must be stored (the script exits 1 otherwise)."""
    figures, _stderr = _run("submit.py", "--quick", "--sqlite-only", timeout=300)
    assert figures["submit_errors"] == 0
    assert figures["baseline_errors"] == 0
    assert figures["problems"] == []
    assert figures["submit_rate_ratio"] > 0
