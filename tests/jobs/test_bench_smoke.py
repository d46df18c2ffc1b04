"""``bench/sendout.py`` still runs (a tiny run; the figures themselves are not checked)."""

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
