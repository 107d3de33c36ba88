"""Other ways to add the combined score's two parts, tried on kept per-frame scores (docs/runs/ped2-cpu/scores/).

    python benchmarks/fusion_forms.py FILE ... --store FRAMES_STORE [--frames REF]

How 0.21.0's softplus fusion was found: on the kept scores of Ped2 seeds 40 to 43, whose test labels this reads.
For each file it prints each form's micro AUC with per-video normalisation less psnr's (its margin), for
  forms     the linear sum (0.20.0's, at alpha 0.4 and 0.5), and label-free alternatives with equal weights: each part
            min-max normalised per video then added or maxed, per-video ranks added, the sum plus the parts'
            product, softplus of each part added, log-sum-exp of the parts, their minimum
  softplus  alpha softplus(k (z - c)) / k of each part added, for scales k and shifts c: how much the gain depends
            on the one shape chosen (k 1, c 0)
z is a part's z-score over all test frames, as evaluate takes it. A diagnosis: the forms were compared on labels,
so the seeds that chose one cannot confirm it (docs/RESULTS.md, section "Softplus fusion").
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from kept_scores import with_labels  # benchmarks/kept_scores.py, beside this script

from vgisgan.data.cache import FrameCache
from vgisgan.metrics import auc, combine, minmax_per_video, softplus, standardize
from vgisgan.store import Store


def ranks_per_video(scores: np.ndarray, videos: np.ndarray) -> np.ndarray:
    """Each frame's rank within its video, scaled to [0, 1]."""
    out = np.zeros(len(scores))
    for v in np.unique(videos):
        m = videos == v
        out[m] = np.argsort(np.argsort(scores[m])) / max(m.sum() - 1, 1)
    return out


def forms(p: np.ndarray, d: np.ndarray, videos: np.ndarray) -> dict[str, np.ndarray]:
    """Combined scores of psnr score p and detector logit d, by name."""
    zp, zd = standardize(p), standardize(d)
    mp, md = minmax_per_video(p, videos), minmax_per_video(d, videos)
    return {
        "linear 0.4": combine(p, d, 0.4, fusion="linear"),
        "linear 0.5": combine(p, d, 0.5, fusion="linear"),
        "min-max sum": mp + md,
        "min-max max": np.maximum(mp, md),
        "rank sum": ranks_per_video(p, videos) + ranks_per_video(d, videos),
        "sum + product/2": zp + zd + 0.5 * zp * zd,
        "softplus, equal weights": softplus(zp) + softplus(zd),
        "log-sum-exp": np.logaddexp(zp, zd),
        "min": np.minimum(zp, zd),
    }


def softplus_grid(p: np.ndarray, d: np.ndarray) -> dict[str, np.ndarray]:
    zp, zd = standardize(p), standardize(d)
    return {
        f"k {k:g} c {c:g} alpha {a:g}": a * softplus(k * (zp - c)) / k + (1 - a) * softplus(k * (zd - c)) / k
        for k in (0.5, 1.0, 2.0, 4.0)
        for c in (-1.0, 0.0, 1.0)
        for a in (0.4, 0.5)
    }


def margins(table: dict[str, np.ndarray]) -> dict[str, float]:
    videos, labels = table["video"], table["label"]

    def per_video_auc(s: np.ndarray) -> float:
        return 100 * auc(labels, minmax_per_video(s, videos))

    p, d = table["score_psnr"], table["score_detector"]
    base = per_video_auc(p)
    scores = forms(p, d, videos) | softplus_grid(p, d)
    return {"psnr": base} | {name: per_video_auc(s) - base for name, s in scores.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--store", required=True, help="a store with a frames artifact of the same dataset")
    ap.add_argument("--frames", default=None, help="frames artifact (default: the latest)")
    args = ap.parse_args()
    cache = FrameCache(Store(args.store).resolve(args.frames, "frames").path)
    for path in args.files:
        print(json.dumps({"file": str(path), **{k: round(v, 2) for k, v in margins(with_labels(path, cache)).items()}}))


if __name__ == "__main__":
    main()
