"""benchmarks/cell_levels.py: the levels it measures for an old detector are train-detector's, its scores evaluate's."""

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
    for name, flags in (("flip", ["--no-cell-levels"]), ("reversed", ["--reverse"])):
        r = invoke("evaluate", *flags, "--name", name, "--store", store)  # as 0.17.0 and 0.18.0 scored
        assert r.exit_code == 0, r.output
    return store


def _detector_scores(store: Store, eval_ref: str) -> dict:
    with open(store.resolve(eval_ref, "eval").path / "scores.csv", newline="") as f:
        return {(r["video"], int(r["frame"])): float(r["score_detector"]) for r in csv.DictReader(f)}


def test_the_benchmarks_levelled_scores_are_evaluates(run_store):
    script = load_benchmark("cell_levels")
    store = Store(run_store)
    cache = FrameCache(store.resolve("frames/synthetic@v1", "frames").path)
    det = store.resolve("detector/synthetic@v1", "detector")
    scores, levels = script.levelled_scores(cache, det, 16, torch.device("cpu"))
    for name, eval_ref in (("with levels", "eval/synthetic@v1"), ("with levels, reversed too", "eval/reversed@v1")):
        evaluated = _detector_scores(store, eval_ref)
        assert set(scores[name]) == set(evaluated)
        keys = sorted(evaluated)
        assert np.allclose([scores[name][k] for k in keys], [evaluated[k] for k in keys], rtol=1e-4, atol=1e-4)
    stored = load_file(str(det.path / "cell_levels.safetensors"))  # what train-detector measured
    assert set(stored) == set(levels) == {"plain", "mirrored", "reversed", "reversed-mirrored"}
    assert all(torch.allclose(levels[v], stored[v], atol=1e-5) for v in levels)


def test_the_benchmark_reports_the_unlevelled_eval_and_the_levelled_one(run_store, capsys, monkeypatch, keep_threads):
    script = load_benchmark("cell_levels")
    args = ["cell_levels.py", "--store", str(run_store), "--name", "synthetic", "--eval", "flip@v1"]
    monkeypatch.setattr("sys.argv", args)
    script.main()
    out = json.loads(capsys.readouterr().out)
    metrics = json.loads((Store(run_store).resolve("eval/flip@v1", "eval").path / "metrics.json").read_text())
    assert out["psnr"] == round(100 * metrics["score_psnr"]["per-video"]["micro_auc"], 3)
    assert out["without levels"]["combined"] == round(100 * metrics["score_combined"]["per-video"]["micro_auc"], 3)
    for name, eval_ref in (("with levels", "eval/synthetic@v1"), ("with levels, reversed too", "eval/reversed@v1")):
        levelled = json.loads((Store(run_store).resolve(eval_ref, "eval").path / "metrics.json").read_text())
        assert out[name]["detector"] == pytest.approx(
            100 * levelled["score_detector"]["per-video"]["micro_auc"], abs=0.01
        )
    monkeypatch.setattr("sys.argv", args[:-1] + ["synthetic@v1"])  # an eval already levelled is refused
    with pytest.raises(SystemExit, match="without cell levels"):
        script.main()
