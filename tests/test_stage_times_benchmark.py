"""benchmarks/stage_times.py: each row is the manifests' own figures, found through the evaluation's inputs."""

from __future__ import annotations

import json
import sys

from conftest import invoke, load_benchmark

from vgisgan.store import Store


def summary(store: Store, ref: str, kind: str) -> dict:
    return json.loads((store.resolve(ref, kind).path / "manifest.json").read_text())["summary"]


def test_stage_times_reads_every_stage_behind_each_evaluation(tmp_path, monkeypatch, capsys):
    stage_times = load_benchmark("stage_times")
    assert invoke("run", "synthetic", "--preset", "tiny", "--store", tmp_path).exit_code == 0
    r = invoke("run", "synthetic", "--preset", "tiny", "--mix", "none", "--name", "alone", "--store", tmp_path)
    assert r.exit_code == 0, r.output
    store = Store(tmp_path)

    own = stage_times.stage_row(store, store.resolve("eval/synthetic@v1", "eval"))
    det = summary(store, "detector/synthetic@v1", "detector")
    assert own["train_detector"] == det["seconds"] and own["best_epochs"] == det["best_epochs"]
    assert own["probe_auc"] == det["probe_auc"]
    assert own["train_gan"] == summary(store, "gan/synthetic@v1", "gan")["seconds"]
    assert own["prepare"] == summary(store, "frames/synthetic@v1", "frames")["seconds"]
    assert own["evaluate"] == summary(store, "eval/synthetic@v1", "eval")["seconds"]
    sets = ["synthetic", "synthetic-skip-frame", "synthetic-patch", "synthetic-local-skip"]
    assert own["generate"] == {s: summary(store, f"pseudo/{s}@v1", "pseudo")["seconds"] for s in sets}

    alone = stage_times.stage_row(store, store.resolve("eval/alone@v1", "eval"))
    assert list(alone["generate"]) == ["synthetic"]  # the GAN's set only, reused from the first run
    assert alone["train_gan"] == own["train_gan"] and alone["prepare"] == own["prepare"]

    monkeypatch.setattr(sys, "argv", ["stage_times.py", "--store", str(tmp_path)])
    stage_times.main()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == stage_times.HEADER and len(lines) == 4
    assert {line.split(" | ")[0] for line in lines[2:]} == {"| eval/synthetic@v1", "| eval/alone@v1"}


def test_an_evaluation_of_a_gan_alone_has_no_detector_stages(store_copy):
    stage_times = load_benchmark("stage_times")
    r = invoke("train-gan", "--iters", 2, "--width", 4, "--d-width", 4, "--batch-size", 2, "--store", store_copy)
    assert r.exit_code == 0, r.output
    assert invoke("evaluate", "--store", store_copy).exit_code == 0
    store = Store(store_copy)
    row = stage_times.stage_row(store, store.resolve(None, "eval"))
    assert row["train_gan"] == summary(store, "gan/synthetic@v1", "gan")["seconds"]
    assert row["train_detector"] is None and row["generate"] == {} and row["best_epochs"] is None
    assert " s (" in stage_times.markdown(row) and "| - | - | - |" in stage_times.markdown(row)
