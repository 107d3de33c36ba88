"""benchmarks/train_step.py and detector_step.py run from anywhere and report the ratio of their medians."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.mark.parametrize(
    "script, names, args",
    [
        ("train_step.py", ("contiguous", "channels-last"), ["--width", "4"]),
        ("detector_step.py", ("pooled", "regions"), ["--width", "4", "--batch", "4"]),
    ],
)
def test_a_step_benchmark_prints_each_median_and_their_ratio(tmp_path, script, names, args):
    cmd = [sys.executable, str(BENCHMARKS / script), "--size", "32", "--steps", "1", "--repeat", "1", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    medians = {}
    for name in names:
        m = re.search(rf"^{re.escape(name)}\s+([0-9.]+) s/", out, re.MULTILINE)
        assert m, out
        medians[name] = float(m.group(1))
    ratio = float(re.search(rf"{names[1]} / {names[0]}: ([0-9.]+)", out).group(1))
    assert ratio == pytest.approx(medians[names[1]] / medians[names[0]], rel=0.1)  # the medians print rounded
