"""Which psnr window tells pseudo-anomalies from real next frames, on training videos only (no test frame is read).

    python benchmarks/psnr_window.py --store STORE [--gan ped2@v1] [--windows 1 0.5 0.25 0.125] [--n 512]

For n random positions of the training videos the GAN's normal generator predicts the next frame once; three
candidates are scored against that prediction by `losses.psnr` at each window: the real next frame, the
whole scene `skip` steps ahead (skip-frame) and the real frame with its busiest patch from that far ahead
(local-skip, one thing moving too fast). Prints (JSON), per window, the AUC of minus psnr for each kind of
candidate against the real frames. The GAN trained on these videos, so its errors here are smaller than on
unseen video: the numbers compare windows with each other; they are not an estimate of a test AUC.
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from vgisgan import losses
from vgisgan.data.cache import FrameCache
from vgisgan.data.clips import ClipSampler, to_tensor
from vgisgan.gan import load_generators
from vgisgan.methods import local_skip, pasts, real_targets
from vgisgan.metrics import auc
from vgisgan.store import Store


def candidates(cache: FrameCache, t_past: int, n: int, skip: int, frac: float, seed: int):
    """(past (n, T*C, H, W), {kind: candidate frames (n, H, W, C) uint8}) for n positions of the training videos."""
    sampler = ClipSampler(cache, "train", t_past + skip, seed)
    local = local_skip(sampler, n, t_past, frac)  # rows are each clip's position t_past
    rows = local.rows
    kinds = {
        "real": real_targets(cache, rows),
        "skip-frame": real_targets(cache, rows + np.array([0, skip - 1])),  # what skip_frame makes of the same clip
        "local-skip": local.pseudo,
    }
    return pasts(cache, rows, t_past), kinds


@torch.no_grad()
def window_aucs(g_normal, past: torch.Tensor, frames: dict, windows: list[float], batch: int = 64) -> dict:
    prediction = torch.cat([g_normal(past[i : i + batch]).float() for i in range(0, len(past), batch)])
    labels = np.r_[np.zeros(len(past)), np.ones(len(past))]  # real frames, then one kind of candidate
    out = {}
    for window in windows:
        score = {k: -losses.psnr(prediction, to_tensor(v), window).numpy() for k, v in frames.items()}
        out[str(window)] = {
            k: round(100 * auc(labels, np.r_[score["real"], score[k]]), 2) for k in frames if k != "real"
        }
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--store", required=True)
    p.add_argument("--gan", default=None, help="gan/NAME[@vN]; default: the newest GAN in the store")
    p.add_argument("--windows", type=float, nargs="+", default=[1.0, 0.5, 0.25, 0.125])
    p.add_argument("--n", type=int, default=512)
    p.add_argument("--skip", type=int, default=2, help="the cpu preset's skip-frame stride")
    p.add_argument("--frac", type=float, default=0.15, help="the cpu preset's patch side")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()

    store = Store(args.store)
    if not args.gan and not store.list("gan"):
        raise SystemExit(f"no gan artifact in {args.store}: run `vgisgan train-gan` first, or pass --gan")
    gan = store.resolve(args.gan, "gan") if args.gan else max(store.list("gan"), key=lambda a: a.manifest.created)
    frames = store.resolve(next(i.ref for i in gan.manifest.inputs if i.role == "frames"), "frames")
    model, g_normal, _ = load_generators(gan.path, gan.manifest.config, torch.device("cpu"))
    past, kinds = candidates(FrameCache(frames.path), model.t_past, args.n, args.skip, args.frac, args.seed)
    print(json.dumps({"gan": gan.ref, "n": args.n, "auc": window_aucs(g_normal, past, kinds, args.windows)}))


if __name__ == "__main__":
    main()
