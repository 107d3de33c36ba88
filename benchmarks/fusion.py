"""How the combined score's two parts should be weighted, tried on scores an `evaluate` run already wrote.

    python benchmarks/fusion.py --store STORE [--eval ped2@v1 ...] [--gamma 0 1 2] [--alpha 0 0.1 ...]
                                [--fusion linear softplus] [--per-video]

`evaluate` adds alpha f(z(score_psnr)) and (1 - alpha) f(z(score_detector)), the detector's logit, each z taken over
all test frames (alpha 0.5 until 0.19.1, 0.4 since 0.20.0; f the identity until 0.20.0, softplus since 0.21.0).
Under the per-video protocol (each video's scores min-max normalised before pooling) only the order within a video
counts, and there the equal-weight linear sum weighs each part by its spread *in that video*: sd_v(z). This script
rebuilds that sum with weights sd_v(z) ** gamma instead:

    gamma 0  each part standardised within each video (equal weights in every video)
    gamma 1  the same order within every video as `evaluate --alpha 0.5`'s score_combined
    gamma 2  a part that varies more in a video counts more there than gamma 1 lets it

It reads only scores.csv's score columns (no label enters the fusion) and prints, per eval artifact, the
micro AUC with per-video normalisation of psnr, detector and each fusion, and each fusion's margin over psnr.
With --alpha, also `evaluate`'s own sum at other weights of the psnr part (`evaluate --alpha`), for each --fusion
(keys "alpha A" for linear, where alpha 0.5 is gamma 1, 1 is psnr alone and 0 the detector alone; "softplus A").
Its AUCs read the test labels: a sweep of alpha is a diagnosis of how far any fixed weighting could go on a run,
not a way to choose the weight: 0.20.0's 0.4, which such a sweep suggested, was adopted only after two fresh seeds,
whose labels had chosen nothing, confirmed it (docs/results-history.md).
With --per-video, also each test video's own AUC of psnr, detector and the eval's combined score (at its own alpha and
fusion; their mean is the macro AUC), which shows in which scenes the detector helps or hurts the combined score.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence

import numpy as np

import vgisgan.scores
from vgisgan.metrics import FUSIONS, auc, combine, logit, minmax_per_video, standardize
from vgisgan.store import Store


def read_scores(path, detector_score: str = "logit") -> dict[str, np.ndarray]:
    """scores.csv's columns; an eval before 0.16.0 (`detector_score` "probability") wrote P, made a logit here."""
    table = vgisgan.scores.read_scores(path)
    if detector_score == "probability":
        table["score_detector"] = logit(table["score_detector"])
    return table


def spread_weighted(parts: list[np.ndarray], videos: np.ndarray, gamma: float) -> np.ndarray:
    """Sum over parts of sd_v(z) ** gamma * (z - mean_v(z)) / sd_v(z), video by video; z is global.

    A part that is constant in a video adds nothing there."""
    out = np.zeros(len(videos))
    for v in np.unique(videos):
        m = videos == v
        for z in parts:
            sd = z[m].std()
            if sd > 0:
                out[m] += sd**gamma * (z[m] - z[m].mean()) / sd
    return out


def z_parts(table: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The combined score's two parts as `evaluate` adds them: z(psnr score), z(detector logit)."""
    return [standardize(table["score_psnr"]), standardize(table["score_detector"])]


def combined_key(fusion: str, alpha: float) -> str:
    """The name fusion_aucs gives evaluate's combined score at this fusion and psnr weight."""
    return f"{'alpha' if fusion == 'linear' else fusion} {alpha:g}"


def fusion_aucs(
    table: dict[str, np.ndarray],
    gammas: list[float],
    alphas: Sequence[float] = (),
    fusions: Sequence[str] = ("linear",),
) -> dict[str, float]:
    videos, labels = table["video"], table["label"]
    parts = z_parts(table)

    def per_video_auc(s: np.ndarray) -> float:
        return 100 * auc(labels, minmax_per_video(s, videos))

    out = {"psnr": per_video_auc(table["score_psnr"]), "detector": per_video_auc(table["score_detector"])}
    for g in gammas:
        out[f"gamma {g:g}"] = per_video_auc(spread_weighted(parts, videos, g))
        out[f"gamma {g:g} margin"] = out[f"gamma {g:g}"] - out["psnr"]
    for fusion in fusions:
        for a in alphas:
            key = combined_key(fusion, a)
            out[key] = per_video_auc(combine(table["score_psnr"], table["score_detector"], a, fusion=fusion))
            out[f"{key} margin"] = out[key] - out["psnr"]
    return out


def video_aucs(table: dict[str, np.ndarray], alpha: float, fusion: str) -> list[dict]:
    """Per test video with both kinds of frame: its AUC (in %) of psnr, detector and the combined score."""
    videos, labels = table["video"], table["label"]
    scores = {"psnr": table["score_psnr"], "detector": table["score_detector"]}
    scores["combined"] = combine(table["score_psnr"], table["score_detector"], alpha, fusion=fusion)
    rows = []
    for v in np.unique(videos):
        m = videos == v
        if 0 < labels[m].sum() < m.sum():
            rows.append({"video": str(v), **{k: 100 * auc(labels[m], s[m]) for k, s in scores.items()}})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", default="artifacts")
    ap.add_argument("--eval", nargs="+", default=[None], help="eval artifacts (default: the latest)")
    ap.add_argument("--gamma", nargs="+", type=float, default=[0.0, 1.0, 2.0])
    ap.add_argument("--alpha", nargs="+", type=float, default=[], help="also evaluate's sum at these psnr weights")
    ap.add_argument("--fusion", nargs="+", choices=FUSIONS, default=["linear"], help="evaluate's sums for --alpha")
    ap.add_argument("--per-video", action="store_true", help="also print each test video's AUCs")
    args = ap.parse_args()
    store = Store(args.store)
    for ref in args.eval:
        art = store.resolve(ref, "eval")
        summary = art.manifest.summary  # evals before 0.20.0 have no alpha (0.5), before 0.21.0 no fusion (linear)
        table = read_scores(art.file("scores.csv"), summary.get("score_detector", "probability"))
        aucs = fusion_aucs(table, args.gamma, args.alpha, args.fusion)
        print(json.dumps({"eval": art.ref, **{k: round(v, 2) for k, v in aucs.items()}}))
        alpha, fusion = summary.get("alpha", 0.5), summary.get("fusion", "linear")
        for row in video_aucs(table, alpha, fusion) if args.per_video else []:
            print(json.dumps({"eval": art.ref, **{k: v if k == "video" else round(v, 2) for k, v in row.items()}}))


if __name__ == "__main__":
    main()
