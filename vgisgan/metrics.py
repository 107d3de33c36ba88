"""Frame-level metrics of anomaly scores (higher score = more abnormal).

Protocols, both reported:
  per-video  each video's scores are min-max normalised to [0, 1] first (the FFP protocol; it uses each test
             video's own score range, never its labels)
  none       raw scores pooled over all videos
Metrics:
  micro_auc  ROC AUC over all frames pooled
  macro_auc  mean of per-video ROC AUCs; a video whose frames are all normal or all abnormal has no AUC and
             is left out (n_videos_used says how many counted)
  eer        equal error rate: where the false positive rate equals the miss rate, interpolated on the ROC
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d
from sklearn.metrics import roc_auc_score, roc_curve

PROTOCOLS = ("per-video", "none")
FUSIONS = ("softplus", "linear")  # how the combined score adds its two parts: combine()


def _one_class(labels: np.ndarray) -> bool:
    return len(np.unique(labels)) < 2


def auc(labels: np.ndarray, scores: np.ndarray) -> float:
    if _one_class(labels):
        return float("nan")
    return float(roc_auc_score(labels, scores))


def eer(labels: np.ndarray, scores: np.ndarray) -> float:
    if _one_class(labels):
        return float("nan")
    fpr, tpr, _ = roc_curve(labels, scores)
    fnr = 1 - tpr
    i = int(np.flatnonzero(fpr >= fnr)[0])  # first ROC point where false alarms catch up with misses
    if i == 0:
        return float(fpr[0])
    # Linear interpolation between the points either side of the crossing.
    d0, d1 = fnr[i - 1] - fpr[i - 1], fnr[i] - fpr[i]
    t = d0 / (d0 - d1) if d0 != d1 else 0.0
    return float(fpr[i - 1] + t * (fpr[i] - fpr[i - 1]))


def _groups(videos: np.ndarray) -> list[np.ndarray]:
    _, first = np.unique(videos, return_index=True)
    return [np.flatnonzero(videos == videos[i]) for i in sorted(first)]


def minmax_per_video(scores: np.ndarray, videos: np.ndarray) -> np.ndarray:
    out = np.empty(len(scores), np.float64)
    for idx in _groups(videos):
        s = scores[idx].astype(np.float64)
        span = s.max() - s.min()
        out[idx] = (s - s.min()) / span if span > 0 else 0.0
    return out


def smooth_per_video(scores: np.ndarray, videos: np.ndarray, frames: np.ndarray, sigma: float) -> np.ndarray:
    """Temporal Gaussian smoothing inside each video (in frame order); sigma 0 returns the scores unchanged."""
    if sigma <= 0:
        return scores.astype(np.float64)
    out = np.empty(len(scores), np.float64)
    for idx in _groups(videos):
        order = idx[np.argsort(frames[idx])]
        out[order] = gaussian_filter1d(scores[order].astype(np.float64), sigma, mode="nearest")
    return out


def macro_auc(labels: np.ndarray, scores: np.ndarray, videos: np.ndarray) -> tuple[float, int]:
    aucs = [auc(labels[idx], scores[idx]) for idx in _groups(videos)]
    used = [a for a in aucs if not np.isnan(a)]
    return (float(np.mean(used)) if used else float("nan")), len(used)


def score_metrics(
    labels: np.ndarray, scores: np.ndarray, videos: np.ndarray, frames: np.ndarray, smooth: float = 0.0
) -> dict:
    """{protocol: {micro_auc, macro_auc, eer, n_videos_used}} for one score."""
    s = smooth_per_video(scores, videos, frames, smooth)
    out = {}
    for protocol in PROTOCOLS:
        x = minmax_per_video(s, videos) if protocol == "per-video" else s
        macro, used = macro_auc(labels, x, videos)
        out[protocol] = {"micro_auc": auc(labels, x), "macro_auc": macro, "eer": eer(labels, x), "n_videos_used": used}
    return out


def standardize(scores: np.ndarray) -> np.ndarray:
    """Zero mean, unit variance over the given frames (label-free)."""
    s = scores.astype(np.float64)
    sd = s.std()
    return (s - s.mean()) / sd if sd > 0 else s - s.mean()


def logit(p_abnormal: np.ndarray) -> np.ndarray:
    """log(p / (1 - p)), clipped away from 0 and 1: the detector score of evals before 0.16.0, which wrote P."""
    p = np.clip(p_abnormal.astype(np.float64), 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def softplus(z: np.ndarray) -> np.ndarray:
    """log(1 + e^z), without overflow for large z."""
    return np.logaddexp(0.0, z)


def combine(score_psnr: np.ndarray, detector_logit: np.ndarray, alpha: float, *, fusion: str) -> np.ndarray:
    """alpha * f(z(psnr anomaly score)) + (1 - alpha) * f(z(the detector's logit of abnormal)), z over the frames given.

    Both inputs are anomaly scores (higher = more abnormal), so they add under one sign; the thesis mixed a
    normality score with an anomaly score. f is the identity for fusion "linear" (the combined score until 0.20.0)
    and softplus, log(1 + e^z), for "softplus" (since 0.21.0): a part that finds a frame more normal than usual
    (z well below 0) then pulls it down little, while one that finds it abnormal still raises it almost linearly, so
    a frame that either part flags stays high (a soft "or"; docs/RESULTS.md, section "Softplus fusion").
    """
    if fusion not in FUSIONS:
        raise ValueError(f"fusion must be one of {FUSIONS}, not {fusion!r}")
    f = (lambda z: z) if fusion == "linear" else softplus
    return alpha * f(standardize(score_psnr)) + (1 - alpha) * f(standardize(detector_logit))
