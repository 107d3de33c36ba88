"""benchmarks/cell_levels.py: the levels it measures for an old detector are the ones train-detector stores."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest
import torch
from conftest import invoke, load_benchmark
from safetensors.torch import load_file

from vgisgan.data.cache import FrameCache
from vgisgan.store import Store


@pytest.fixture(scope="module")
def run_store(tmp_path_factory):
    store = tmp_path_factory.mktemp("levels_run")
    r = invoke("run", "synthetic", "--preset", "tiny", "--store", store)
    assert r.exit_code == 0, r.output
    r = invoke("evaluate", "--no-cell-levels", "--name", "flip", "--store", store)  # as 0.17.0 scored
    assert r.exit_code == 0, r.output
    return store


def test_the_benchmarks_levelled_scores_are_evaluates(run_store):
    script = load_benchmark("cell_levels")
    store = Store(run_store)
    cache = FrameCache(store.resolve("frames/synthetic@v1", "frames").path)
    det = store.resolve("detector/synthetic@v1", "detector")
    scores, levels = script.levelled_scores(cache, det, 16, torch.device("cpu"))
    with open(store.resolve("eval/synthetic@v1", "eval").path / "scores.csv", newline="") as f:
        evaluated = {(r["video"], int(r["frame"])): float(r["score_detector"]) for r in csv.DictReader(f)}
    assert set(scores) == set(evaluated)
    keys = sorted(evaluated)
    assert np.allclose([scores[k] for k in keys], [evaluated[k] for k in keys], rtol=1e-4, atol=1e-4)
    stored = load_file(str(det.path / "cell_levels.safetensors"))  # what train-detector measured
    assert all(torch.allclose(levels[v], stored[v], atol=1e-5) for v in ("plain", "mirrored"))


def test_the_benchmark_reports_the_unlevelled_eval_and_the_levelled_one(run_store, capsys, monkeypatch, keep_threads):
    script = load_benchmark("cell_levels")
    args = ["cell_levels.py", "--store", str(run_store), "--name", "synthetic", "--eval", "flip@v1"]
    monkeypatch.setattr("sys.argv", args)
    script.main()
    out = json.loads(capsys.readouterr().out)
    metrics = json.loads((Store(run_store).resolve("eval/flip@v1", "eval").path / "metrics.json").read_text())
    assert out["psnr"] == round(100 * metrics["score_psnr"]["per-video"]["micro_auc"], 3)
    assert out["without levels"]["combined"] == round(100 * metrics["score_combined"]["per-video"]["micro_auc"], 3)
    levelled = json.loads((Store(run_store).resolve("eval/synthetic@v1", "eval").path / "metrics.json").read_text())
    assert out["with levels"]["detector"] == pytest.approx(
        100 * levelled["score_detector"]["per-video"]["micro_auc"], abs=0.01
    )
    monkeypatch.setattr("sys.argv", args[:-1] + ["synthetic@v1"])  # an eval already levelled is refused
    with pytest.raises(SystemExit, match="without cell levels"):
        script.main()
