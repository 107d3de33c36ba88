"""The floor every frame predictor must beat: "the next frame is the last one", scored like the normal branch.

    python benchmarks/copy_last.py --store STORE [--frames ped2@v1] [--t-past 4]

Prints (JSON) the mean prediction PSNR of copying the last frame on the training videos (every frame pair) and
on the scored test frames (the mean of the per-video means), and the test AUCs of its psnr score (micro with and
without per-video normalisation, macro, EER) over the frames `evaluate` scores (frames t_past..L-1 of each test
video), joined to the labels by (video, frame). Its psnr score is a frame-difference score: it ranks frames by
how much changed since the last one.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch
from torch import nn

from vgisgan import losses
from vgisgan.data.cache import FrameCache
from vgisgan.data.clips import to_tensor
from vgisgan.metrics import score_metrics
from vgisgan.scores import join_labels
from vgisgan.stages.evaluate import score_video
from vgisgan.store import Store


class CopyLast(nn.Module):
    """A 'generator' that predicts the last past frame: past (B, T*C, H, W) -> (B, C, H, W)."""

    def __init__(self, channels: int):
        super().__init__()
        self.channels = channels

    def forward(self, past: torch.Tensor) -> torch.Tensor:
        return past[:, -self.channels :]


def mean_train_psnr(cache: FrameCache) -> float:
    per_video = []
    for i in range(len(cache.videos("train"))):
        x = to_tensor(np.asarray(cache.video("train", i)))  # (L, C, H, W) in [-1, 1]
        per_video.append(losses.psnr(x[:-1], x[1:]).mean().item())
    return float(np.mean(per_video))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", default="artifacts")
    ap.add_argument("--frames", default=None, help="frames artifact (default: the latest)")
    ap.add_argument("--t-past", type=int, default=4)
    args = ap.parse_args()
    art = Store(args.store).resolve(args.frames, "frames")
    cache = FrameCache(art.path)
    copy = CopyLast(cache.channels)
    videos, frames, psnr = [], [], []
    for i, info in enumerate(cache.videos("test")):
        frames_i = np.asarray(cache.video("test", i))  # (L, H, W, C) uint8
        s = score_video(frames_i, args.t_past, copy, args.t_past, None, 0, 64, torch.device("cpu"))
        videos.append(np.full(len(s["frame"]), info.name, dtype=object))
        frames.append(s["frame"])
        psnr.append(s["psnr"])
    table = {"video": np.concatenate(videos), "frame": np.concatenate(frames)}
    labels = join_labels(table, cache)
    out = {
        "frames": art.ref,
        "train_psnr_db": round(mean_train_psnr(cache), 3),
        "test_psnr_db": round(float(np.mean([p.mean() for p in psnr])), 3),
    }
    if labels is not None:
        m = score_metrics(labels, -np.concatenate(psnr), table["video"], table["frame"])
        out["score_psnr"] = {
            protocol: {k: v if k == "n_videos_used" else round(100 * v, 2) for k, v in d.items()}
            for protocol, d in m.items()
        }
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
