"""benchmarks/auc_loss.py: the AUC's loss split by video, checked against pairs counted by hand."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_benchmark

from vgisgan.metrics import auc, minmax_per_video
from vgisgan.scores import available_scores, read_scores

# Video A has two normal and two abnormal frames, video B three abnormal ones; one of B's ties one of A's.
# Binary fractions, so that min-max normalisation computes them exactly and the ties stay ties.
ROWS = [("A", 0, 0.0), ("A", 0, 0.5), ("A", 1, 0.375), ("A", 1, 1.0), ("B", 1, 0.25), ("B", 1, 0.75), ("B", 1, 0.5)]


@pytest.fixture
def table(tmp_path):
    path = tmp_path / "scores.csv"
    lines = ["video,frame,label,psnr,score_psnr,score_detector,score_combined"]
    lines += [f"{v},{i},{y},30,{s},,{-s}" for i, (v, y, s) in enumerate(ROWS)]
    path.write_text("\n".join(lines) + "\n")
    return read_scores(path)


def test_a_score_column_left_empty_is_not_scored(table):
    assert available_scores(table) == ["score_psnr", "score_combined"] and table["score_detector"] is None
    assert [row["score"] for row in load_benchmark("auc_loss").loss_by_video(table, "none")] == ["psnr", "combined"]


def test_raw_scores_lose_the_pairs_counted_by_hand(table):
    (psnr, _) = load_benchmark("auc_loss").loss_by_video(table, "none")
    # 5 abnormal x 2 normal = 10 pairs. Misordered: A's 0.375 and B's 0.25 below A's 0.5; B's 0.5 ties it.
    assert psnr["abnormal"] == {"A": 10.0, "B": 15.0}
    assert psnr["normal"] == {"A": 25.0, "B": 0.0}
    assert psnr["auc"] == pytest.approx(100 * auc(table["label"], table["score_psnr"])) == 75.0


def test_per_video_normalisation_costs_an_all_abnormal_video_its_lowest_frame(table):
    (psnr, _) = load_benchmark("auc_loss").loss_by_video(table, "per-video")
    # After min-max, A is unchanged and B is 0, 1, 0.5: B's lowest frame ties A's normal 0 and sits below its
    # 0.5 (1.5 pairs), B's middle frame ties A's 0.5 (0.5), A's 0.375 is below A's 0.5 (1): 3 of 10 pairs.
    assert psnr["abnormal"] == {"A": 10.0, "B": 20.0}
    expected = 100 * auc(table["label"], minmax_per_video(table["score_psnr"], table["video"]))
    assert psnr["auc"] == pytest.approx(expected) == 70.0


def test_the_split_sums_to_the_loss_of_any_score():
    script = load_benchmark("auc_loss")
    rng = np.random.default_rng(1)
    videos = rng.choice(["01", "02", "03"], size=200)
    labels = (rng.random(200) < 0.4).astype(int)
    scores = rng.normal(size=200) + labels
    m, names = script.misordered_pairs(scores, labels, videos)
    assert names == ["01", "02", "03"]
    assert m.sum() == pytest.approx(100 * (1 - auc(labels, scores)))
