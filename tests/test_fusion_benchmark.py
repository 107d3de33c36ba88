"""benchmarks/fusion.py rebuilds evaluate's combined score; its gamma 1 must rank every video's frames alike."""

from __future__ import annotations

import numpy as np
from conftest import load_benchmark

from vgisgan.metrics import combine, minmax_per_video, standardize


def test_gamma_one_is_evaluates_combined_score_within_each_video():
    fusion = load_benchmark("fusion")
    rng = np.random.default_rng(0)
    videos = np.repeat(["01", "02", "03"], 40)
    psnr_score = rng.normal(size=120) + np.repeat([0.0, 3.0, -1.0], 40)
    detector_logit = rng.normal(size=120) * np.repeat([0.2, 1.0, 3.0], 40)
    parts = [standardize(psnr_score), standardize(detector_logit)]
    rebuilt = minmax_per_video(fusion.spread_weighted(parts, videos, 1.0), videos)
    expected = minmax_per_video(combine(psnr_score, detector_logit, 0.5, fusion="linear"), videos)
    assert np.allclose(rebuilt, expected)


def test_alpha_sweep_ends_at_each_part_alone_and_meets_gamma_one_halfway():
    fusion = load_benchmark("fusion")
    rng = np.random.default_rng(1)
    videos = np.repeat(["01", "02"], 30)
    labels = np.tile(np.r_[np.zeros(15), np.ones(15)], 2)
    table = {
        "video": videos,
        "label": labels,
        "score_psnr": rng.normal(size=60) + labels,
        "score_detector": rng.normal(size=60) * np.repeat([0.5, 2.0], 30) + 0.5 * labels,
    }
    out = fusion.fusion_aucs(table, [1.0], [0.0, 0.5, 1.0])
    assert out["alpha 1"] == out["psnr"] and out["alpha 1 margin"] == 0.0
    assert out["alpha 0"] == out["detector"]
    assert np.isclose(out["alpha 0.5"], out["gamma 1"])
    assert out["psnr"] != out["detector"]  # the three checks above would hold trivially on equal parts


def test_gamma_zero_gives_each_part_unit_spread_in_every_video():
    fusion = load_benchmark("fusion")
    videos = np.repeat(["a", "b"], 4)
    flat_in_a = np.array([0.0, 0.1, 0.0, 0.1, 0.0, 5.0, 0.0, 5.0])  # small spread in a, large in b
    out = fusion.spread_weighted([flat_in_a], videos, 0.0)
    assert np.allclose(out[:4].std(), 1.0) and np.allclose(out[4:].std(), 1.0)
    assert np.allclose(out.reshape(2, 4).mean(axis=1), 0.0)


def test_an_eval_before_0_16_wrote_p_and_is_read_as_the_logit(tmp_path):
    fusion = load_benchmark("fusion")
    path = tmp_path / "scores.csv"
    path.write_text(
        "video,frame,label,psnr,score_psnr,score_detector,score_combined\n01,4,0,30,-30,0.5,0\n01,5,1,20,-20,0.8,1\n"
    )
    old = fusion.read_scores(path, "probability")
    assert np.allclose(old["score_detector"], [0.0, np.log(4.0)])  # log(0.8 / 0.2)
    assert np.allclose(fusion.read_scores(path)["score_detector"], [0.5, 0.8])  # 0.16.0 on: already the logit


def test_softplus_sums_get_their_own_keys_and_meet_the_detector_alone_at_alpha_zero():
    fusion = load_benchmark("fusion")
    rng = np.random.default_rng(2)
    labels = np.tile(np.r_[np.zeros(10), np.ones(10)], 2)
    table = {
        "video": np.repeat(["01", "02"], 20),
        "label": labels,
        "score_psnr": rng.normal(size=40) + labels,
        "score_detector": rng.normal(size=40) + 0.5 * labels,
    }
    out = fusion.fusion_aucs(table, [], [0.0, 0.4], ["linear", "softplus"])
    assert out["softplus 0"] == out["detector"]  # softplus is increasing: alone, it keeps the detector's order
    assert out["softplus 0.4"] != out["alpha 0.4"]
    assert fusion.combined_key("softplus", 0.4) == "softplus 0.4" and fusion.combined_key("linear", 0.5) == "alpha 0.5"
