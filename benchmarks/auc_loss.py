"""Where a frame-level AUC is lost: the misordered (abnormal, normal) frame pairs, by the video of each frame.

    python benchmarks/auc_loss.py --store STORE [--eval ped2@v1 ...] [--protocol per-video|none]

1 - AUC is the share of (abnormal frame, normal frame) pairs that a score puts in the wrong order (a tie counts
half). Split by the abnormal frame's video and by the normal frame's video, it says which scenes cost points:
a video's abnormal frames ranked below other videos' normal frames (for example an event whose object is small
when the labels start), or a video's normal frames ranked above abnormal ones (a busy scene, a jump in the
camera). Under the per-video protocol each video is min-max normalised first, so a video whose frames are all
abnormal always loses its lowest frames to every normal frame above zero.

For each score column of the eval's scores.csv (as the eval wrote it), prints the AUC, and per video the points
lost with its abnormal frames on the lower side ("abnormal") and with its normal frames on the higher side
("normal"); each column sums to 100 - AUC. It reads the labels, so it is a diagnosis: it chooses nothing.
"""

from __future__ import annotations

import argparse
import json

import numpy as np

from vgisgan.metrics import minmax_per_video
from vgisgan.scores import available_scores, read_scores
from vgisgan.store import Store


def misordered_pairs(scores: np.ndarray, labels: np.ndarray, videos: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """(V, V) shares of all (abnormal, normal) pairs, in points, misordered with the abnormal frame from video i
    and the normal one from video j, and the videos in that order. The matrix sums to 100 * (1 - AUC)."""
    names = sorted(set(videos.tolist()))
    abnormal, normal = labels == 1, labels == 0
    pairs = abnormal.sum() * normal.sum()
    out = np.zeros((len(names), len(names)))
    for j, vj in enumerate(names):
        neg = np.sort(scores[normal & (videos == vj)])
        if len(neg) == 0:
            continue
        for i, vi in enumerate(names):
            pos = scores[abnormal & (videos == vi)]
            below_or_tied = np.searchsorted(neg, pos, side="right")  # normal frames at or below each abnormal one
            ties = below_or_tied - np.searchsorted(neg, pos, side="left")
            out[i, j] = ((len(neg) - below_or_tied).sum() + 0.5 * ties.sum()) / pairs * 100
    return out, names


def loss_by_video(table: dict[str, np.ndarray], protocol: str) -> list[dict]:
    """Per score column: its AUC and, per video, the points lost on the abnormal and on the normal side."""
    labels, videos = table["label"], table["video"]
    out = []
    for col in available_scores(table):
        s = minmax_per_video(table[col], videos) if protocol == "per-video" else table[col]
        m, names = misordered_pairs(s, labels, videos)
        out.append(
            {
                "score": col.removeprefix("score_"),
                "auc": round(100 - m.sum(), 2),
                "abnormal": {v: round(x, 2) for v, x in zip(names, m.sum(axis=1))},
                "normal": {v: round(x, 2) for v, x in zip(names, m.sum(axis=0))},
            }
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", default="artifacts")
    ap.add_argument("--eval", nargs="+", default=[None], help="eval artifacts (default: the latest)")
    ap.add_argument("--protocol", choices=["per-video", "none"], default="per-video")
    args = ap.parse_args()
    store = Store(args.store)
    for ref in args.eval:
        art = store.resolve(ref, "eval")
        for row in loss_by_video(read_scores(art.file("scores.csv")), args.protocol):
            print(json.dumps({"eval": art.ref, "protocol": args.protocol, **row}))


if __name__ == "__main__":
    main()
