"""benchmarks/kept_scores.py: scores kept without labels get the same labels, and so the same AUCs, back."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_benchmark

from vgisgan.data.cache import FrameCache
from vgisgan.errors import VgisganError
from vgisgan.metrics import auc, minmax_per_video
from vgisgan.scores import join_labels, read_scores, write_scores
from vgisgan.store import Store


def scored_table(cache: FrameCache, rng: np.random.Generator) -> dict:
    """Every test frame after the first two, shuffled (the join must not lean on order), with random scores."""
    rows = [(v.name, f) for v in cache.videos("test") for f in range(2, v.length)]
    rows = [rows[i] for i in rng.permutation(len(rows))]
    table = {"video": np.array([v for v, _ in rows], dtype=object), "frame": np.array([f for _, f in rows])}
    n = len(rows)
    table.update(psnr=rng.normal(30, 2, n), score_psnr=rng.normal(size=n), score_detector=rng.normal(size=n))
    table["score_combined"] = table["score_psnr"] + table["score_detector"]
    table["label"] = join_labels(table, cache)
    return table


def test_kept_scores_drop_the_labels_and_get_them_back_by_video_and_frame(frames_store, tmp_path):
    kept_scores = load_benchmark("kept_scores")
    cache = FrameCache(Store(frames_store).resolve("frames/synthetic@v1", "frames").path)
    table = scored_table(cache, np.random.default_rng(0))
    write_scores(table, tmp_path / "scores.csv")

    kept_scores.keep(tmp_path / "scores.csv", tmp_path / "kept" / "seed1.csv")
    assert read_scores(tmp_path / "kept" / "seed1.csv")["label"] is None
    back = kept_scores.with_labels(tmp_path / "kept" / "seed1.csv", cache)
    assert back["label"].sum() > 0
    np.testing.assert_array_equal(back["label"], table["label"])
    np.testing.assert_array_equal(back["video"], table["video"])

    aucs = load_benchmark("fusion").fusion_aucs(back, [], [])
    by_hand = 100 * auc(table["label"], minmax_per_video(table["score_detector"], table["video"]))
    assert aucs["detector"] == pytest.approx(by_hand, abs=1e-3)


def test_kept_scores_of_another_dataset_are_a_clear_error(frames_store, tmp_path):
    kept_scores = load_benchmark("kept_scores")
    cache = FrameCache(Store(frames_store).resolve("frames/synthetic@v1", "frames").path)
    table = scored_table(cache, np.random.default_rng(1))
    table["video"] = np.array(["Test001"] * len(table["video"]), dtype=object)
    write_scores({**table, "label": None}, tmp_path / "other.csv")
    with pytest.raises(VgisganError, match="not test videos"):
        kept_scores.with_labels(tmp_path / "other.csv", cache)


def test_keep_without_eval_refuses_a_store_with_several_evaluations(frames_store, tmp_path, monkeypatch):
    """A variant made beside a run is newer than the run's own: "the latest" would keep the wrong one."""
    kept_scores = load_benchmark("kept_scores")
    store = Store(frames_store)
    cache = FrameCache(store.resolve("frames/synthetic@v1", "frames").path)
    table = scored_table(cache, np.random.default_rng(0))
    many = Store(tmp_path / "store")
    for name in ("run", "variant"):
        with many.draft("eval", name) as draft:
            write_scores(table, draft.path / "scores.csv")
            draft.publish({}, [], {}, name)
    out = tmp_path / "kept.csv"
    monkeypatch.setattr("sys.argv", ["kept_scores.py", "keep", "--store", str(many.root), "--out", str(out)])
    with pytest.raises(SystemExit, match=r"holds 2 evaluations \(eval/run@v1, eval/variant@v1\): name one with --eval"):
        kept_scores.main()
    assert not out.exists()
    kept_scores.keep(kept_scores.eval_to_keep(many, "eval/run@v1"), out)
    assert read_scores(out)["label"] is None
