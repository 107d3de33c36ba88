"""benchmarks/ped2.sh, the script behind the Ped2 figures of docs/RESULTS.md, on the real set with the tiny preset."""

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PED2

import vgisgan

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not PED2.is_dir(), reason=f"real UCSD Ped2 not found at {PED2} (../shared/datasets/ped2)")
def test_ped2_script_runs_the_code_it_is_given_and_writes_the_run_record(tmp_path):
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",  # this interpreter's python
        "CODE": str(ROOT),
        "PRESET": "tiny",
        "SEEDS": "3",
        "METHODS": "skip-frame",
        "MIX": "none",
        "THREADS": "1",
    }
    store = tmp_path / "store"
    out = subprocess.run(
        ["bash", str(ROOT / "benchmarks" / "ped2.sh"), str(store)],
        cwd=tmp_path,  # not the source tree: CODE alone says what is imported
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    first = out.stdout.splitlines()[0]
    assert first == f"vgisgan {vgisgan.__version__} from {ROOT / 'vgisgan' / '__init__.py'}"
    assert "ped2 tiny skip-frame (mix none) seed 3:" in out.stdout
    with open(store / "compare.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["score"], r["method"], r["seed"]) for r in rows] == [
        (s, "skip-frame", "3") for s in ("psnr", "detector", "combined")
    ]
    assert all(0 <= float(r["micro_auc_per_video"]) <= 1 for r in rows)
