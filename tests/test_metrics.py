"""Metric functions against values worked out by hand, and the (video, frame) join."""

import math
import typing

import numpy as np
import pytest
import torch

from vgisgan import losses
from vgisgan.config import EvaluateConfig
from vgisgan.metrics import FUSIONS, auc, combine, eer, macro_auc, minmax_per_video, score_metrics, smooth_per_video

LABELS = np.array([0, 1, 0, 1])
SCORES = np.array([0.1, 0.2, 0.3, 0.4])


def test_auc_by_hand():
    # Positives 0.2, 0.4 against negatives 0.1, 0.3: 0.2>0.1, 0.2<0.3, 0.4>0.1, 0.4>0.3 -> 3 of 4 pairs.
    assert auc(LABELS, SCORES) == pytest.approx(0.75)
    assert np.isnan(auc(np.zeros(3), np.arange(3)))
    assert np.isnan(auc(np.ones(3), np.arange(3)))  # an all-abnormal video has no AUC either


def test_eer_by_hand():
    # Threshold in (0.2, 0.3]: one of two negatives flagged (FPR 0.5), one of two positives missed (FNR 0.5).
    assert eer(LABELS, SCORES) == pytest.approx(0.5)
    assert eer(np.array([0, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.4])) == pytest.approx(0.0)
    assert eer(np.array([0, 0, 1, 1]), np.array([0.4, 0.3, 0.2, 0.1])) == pytest.approx(1.0)


def test_macro_auc_skips_one_class_videos():
    labels = np.array([0, 1, 0, 1, 0, 0, 0, 0, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.4, 5, 6, 7, 0.9, 0.1])
    videos = np.array(["a"] * 4 + ["b"] * 3 + ["c"] * 2)
    value, used = macro_auc(labels, scores, videos)
    assert used == 2  # video b is all normal: it has no AUC
    assert value == pytest.approx((0.75 + 0.0) / 2)


def test_minmax_per_video_and_constant_video():
    videos = np.array(["a", "a", "a", "b", "b"])
    out = minmax_per_video(np.array([2.0, 4.0, 3.0, 7.0, 7.0]), videos)
    assert out.tolist() == [0.0, 1.0, 0.5, 0.0, 0.0]


def test_per_video_normalisation_changes_micro_auc_as_expected():
    # Video b's scores are all higher, so pooled raw scores rank its normal frame above a's abnormal one.
    labels = np.array([0, 1, 0, 1])
    scores = np.array([1.0, 2.0, 10.0, 11.0])
    videos = np.array(["a", "a", "b", "b"])
    m = score_metrics(labels, scores, videos, np.array([0, 1, 0, 1]))
    assert m["per-video"]["micro_auc"] == pytest.approx(1.0)
    assert m["none"]["micro_auc"] == pytest.approx(0.75)


def test_smoothing_stays_inside_videos_and_follows_frame_order():
    videos = np.array(["a", "a", "a", "b", "b", "b"])
    frames = np.array([2, 0, 1, 0, 1, 2])
    scores = np.array([3.0, 0.0, 0.0, 100.0, 100.0, 100.0])
    out = smooth_per_video(scores, videos, frames, sigma=1.0)
    assert np.allclose(out[3:], 100.0)  # b is constant: unchanged, and nothing leaks in from a
    assert out[0] < 3.0 and out[2] > 0.0  # the spike at frame 2 of a spreads to frame 1
    assert np.array_equal(smooth_per_video(scores, videos, frames, 0.0), scores)


def test_combined_score_adds_two_anomaly_scores_under_one_sign():
    psnr_anomaly = np.array([0.0, 1.0, 0.0, 1.0])
    p_abnormal = np.array([0.1, 0.9, 0.1, 0.9])
    for fusion in FUSIONS:
        assert auc(LABELS, combine(psnr_anomaly, p_abnormal, alpha=0.5, fusion=fusion)) == 1.0
    assert np.allclose(combine(psnr_anomaly, p_abnormal, alpha=1.0, fusion="linear"), (psnr_anomaly - 0.5) / 0.5)


def test_softplus_fusion_by_hand():
    psnr_anomaly = np.array([0.0, 0.0, 0.0, 4.0])  # mean 1, sd sqrt(3)
    detector_logit = np.array([0.0, 3.0, 1.0, -4.0])  # mean 0, sd sqrt(6.5)
    zp, zd = (psnr_anomaly - 1) / np.sqrt(3), detector_logit / np.sqrt(6.5)
    by_hand = 0.4 * np.log1p(np.exp(zp)) + 0.6 * np.log1p(np.exp(zd))
    assert np.allclose(combine(psnr_anomaly, detector_logit, alpha=0.4, fusion="softplus"), by_hand)
    # The order changes, not only the scale: frame 3, which psnr flags and the detector finds very normal, is last
    # of the linear sum but above frame 2, which neither part flags much.
    linear = combine(psnr_anomaly, detector_logit, alpha=0.4, fusion="linear")
    assert np.allclose(linear, 0.4 * zp + 0.6 * zd)
    assert linear[3] < linear[2] and by_hand[3] > by_hand[2]
    with pytest.raises(ValueError, match="fusion"):
        combine(psnr_anomaly, detector_logit, alpha=0.4, fusion="max")


def test_evaluate_config_offers_exactly_the_fusions_combine_knows():
    # The config lists the names itself (importing vgisgan.metrics there would slow every --help): keep them in step.
    field = EvaluateConfig.model_fields["fusion"]
    assert set(typing.get_args(field.annotation)) == set(FUSIONS)
    assert field.default == FUSIONS[0] == "softplus"


def test_windowed_psnr_scores_the_worst_window_by_hand():
    # Frames in [-1, 1]: an error of 1 becomes 0.5 on [0, 1], a squared error of 0.25, over one 32x32 block.
    pred = torch.zeros(2, 1, 128, 128)
    target = pred.clone()
    target[0, :, 32:64, 64:96] = 1.0  # on the half-overlapping grid of 32x32 windows (stride 16)
    target[1, :, 40:72, 72:104] = 1.0  # off it by 8 px: the best window covers 24x24 of the block
    whole = losses.psnr(pred, target)
    assert whole.tolist() == pytest.approx([10 * math.log10(1 / (0.25 / 16))] * 2, abs=1e-4)  # 18.06 dB, diluted
    worst = losses.psnr(pred, target, window=0.25)
    assert worst[0].item() == pytest.approx(10 * math.log10(1 / 0.25), abs=1e-4)  # 6.02 dB: the block alone
    assert worst[1].item() == pytest.approx(10 * math.log10(1 / (0.25 * 24 * 24 / 1024)), abs=1e-4)
    assert torch.equal(losses.psnr(pred, target, window=1.0), whole)


def test_pooled_psnr_cancels_a_one_pixel_misalignment_but_not_a_missing_object():
    pred = torch.zeros(2, 1, 8, 8)
    target = pred.clone()
    target[0, :, :, 0::2] = 0.4  # stripes of +-0.4 (0.2 on [0, 1]), as a shifted edge leaves: each 2x2 cell sums to 0
    target[0, :, :, 1::2] = -0.4
    target[1, :, 0:4, 0:4] = 1.0  # a 4x4 object the prediction lacks: 1/4 of the frame, error 0.5 on [0, 1]
    full = losses.psnr(pred, target)
    pooled = losses.psnr(pred, target, pool=2)
    assert full[0].item() == pytest.approx(10 * math.log10(1 / 0.04), abs=1e-4)  # 0.2 ** 2 everywhere: 13.98 dB
    assert pooled[0].item() == pytest.approx(100.0)  # cancelled; the 1e-10 floor caps it at 100 dB
    expected = 10 * math.log10(1 / (0.25 / 4))  # the object's 2x2 cells keep their error: 12.04 dB either way
    assert full[1].item() == pytest.approx(expected, abs=1e-4) and pooled[1].item() == pytest.approx(expected, abs=1e-4)
    assert torch.equal(losses.psnr(pred, target, pool=1), full)


def test_pooled_psnr_keeps_a_ragged_edge_as_a_smaller_cell():
    pred, target = torch.zeros(1, 1, 5, 5), torch.full((1, 1, 5, 5), 0.2)  # error 0.1 on [0, 1] everywhere
    assert losses.psnr(pred, target, pool=2).item() == pytest.approx(20.0, abs=1e-4)  # 3x3 cells, all 0.1
