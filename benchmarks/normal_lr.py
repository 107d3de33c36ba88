"""How fast does the normal generator learn at a given learning rate? Trains the normal branch alone (U-Net,
its patch discriminator, the intensity + gradient + motion + adversarial loss of `train-gan`) on all training
videos but the held-out ones, and reports the prediction PSNR on clips of the held-out *training* videos: the
criterion the cpu preset's learning rate was chosen by. With --test-auc it also prints the test AUC (micro,
per-video normalisation) of the psnr score, for the record only.

    python benchmarks/normal_lr.py --store STORE --frames ped2@v1 --lr 1.2e-3 [--schedule cosine|tail] [--iters 1200]
        [--ema 0.99,0.999] [--residual]

With --ema it also keeps exponential moving averages of the generator's weights (one per decay) and reports
their held-out PSNR beside the trained weights', from the same trajectory.

`vgisgan train-gan --val-videos 2` logs the same measure on the same 96 clips of Ped2's last two training
videos (training both branches), at every checkpoint.

The pseudo branch is left out: it shares no parameter, loss term or discriminator with the normal branch.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import time

import numpy as np
import torch

from vgisgan import losses, metrics
from vgisgan.config import GanModelConfig, TrainGanConfig
from vgisgan.data.cache import FrameCache
from vgisgan.data.clips import ClipSampler
from vgisgan.gan import build_generator, prediction_psnr, set_requires_grad, split_clip
from vgisgan.models.flow import HornSchunck
from vgisgan.models.unet import PatchDiscriminator
from vgisgan.stages.evaluate import score_video
from vgisgan.store import Store
from vgisgan.training import decayed_lr


def lr_at(args, i: int) -> float:
    if args.schedule == "constant":
        return args.lr
    if args.schedule == "tail":  # train-gan --lr-decay: constant, then linear to 0 over the last --tail share
        return decayed_lr(args.lr, i, args.iters, args.tail)
    return args.lr * 0.5 * (1 + math.cos(math.pi * i / args.iters))


def train_step(g, d, flow, opt_g, opt_d, clip: torch.Tensor, cfg: TrainGanConfig) -> None:
    """The normal half of `vgisgan.gan.train_step`, with the same loss weights."""
    past, last, target = split_clip(clip)  # (B, T*C, H, W), (B, C, H, W), (B, C, H, W)
    gen = g(past)
    with torch.no_grad():
        flow_real = flow(last, target)
    set_requires_grad(d, False)
    loss = (
        cfg.w_intensity * losses.intensity_loss(gen, target)
        + cfg.w_gradient * losses.gradient_loss(gen, target)
        + cfg.w_motion * losses.motion_loss(flow(last, gen), flow_real)
        + cfg.w_adv * losses.lsgan_generator_loss(d(gen))
    )
    opt_g.zero_grad()
    loss.backward()
    opt_g.step()
    set_requires_grad(d, True)
    scores = d(torch.cat([target, gen.detach()]))
    loss_d = losses.lsgan_discriminator_loss(scores[: len(target)], scores[len(target) :])
    opt_d.zero_grad()
    loss_d.backward()
    opt_d.step()


@torch.no_grad()
def update_ema(ema: torch.nn.Module, g: torch.nn.Module, decay: float, step: int) -> None:
    """ema <- decay * ema + (1 - decay) * g over parameters and BatchNorm statistics; the decay is capped at
    (1 + step) / (10 + step) so the first steps' random weights are soon forgotten."""
    d = min(decay, (1 + step) / (10 + step))
    for e, w in zip(ema.state_dict().values(), g.state_dict().values()):
        if e.dtype.is_floating_point:
            e.lerp_(w, 1 - d)
        else:
            e.copy_(w)  # BatchNorm's num_batches_tracked


def test_auc(g, cache: FrameCache, t: int) -> float:
    """The psnr score's micro AUC with per-video normalisation, scored as `evaluate` scores it."""
    g.eval()
    scores, videos, labels = [], [], []
    for v in range(len(cache.videos("test"))):
        s = score_video(np.asarray(cache.video("test", v)), t, g, t, None, 0, 64, torch.device("cpu"))
        scores.append(-s["psnr"])
        videos.append(np.full(len(s["frame"]), v))
        labels.append(cache.labels(v)[s["frame"]])
    g.train()
    normed = metrics.minmax_per_video(np.concatenate(scores), np.concatenate(videos))
    return metrics.auc(np.concatenate(labels), normed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", required=True)
    ap.add_argument("--frames", default=None, help="frames artifact (default: the newest)")
    ap.add_argument("--lr", type=float, default=2e-4)
    ap.add_argument("--schedule", choices=("constant", "cosine", "tail"), default="constant")
    ap.add_argument("--tail", type=float, default=0.2, help="tail: share of iterations the rate decays over")
    ap.add_argument("--iters", type=int, default=1200)
    ap.add_argument("--heldout", default="14,15", help="training videos (0-based) kept out of training")
    ap.add_argument("--width", type=int, default=16)
    ap.add_argument("--residual", action="store_true", help="a residual generator (train-gan --residual)")
    ap.add_argument(
        "--seed",
        type=int,
        default=0,
        help="weights and training clips (the held-out clips stay the same): a rate fast on one seed can be "
        "unstable on another, so compare rates over several",
    )
    ap.add_argument("--ema", default="", help="comma-separated decays of weight averages to report too")
    ap.add_argument("--test-auc", action="store_true")
    args = ap.parse_args()

    torch.manual_seed(args.seed)
    cache = FrameCache(Store(args.store).resolve(args.frames, "frames").path)
    held = [int(v) for v in args.heldout.split(",")]
    train = [v for v in range(len(cache.videos("train"))) if v not in held]
    sampler = ClipSampler(cache, "train", 5, seed=args.seed + 1, flip=True, videos=train)
    heldout = ClipSampler(cache, "train", 5, seed=2, videos=held).sample(96)  # (96, 5, C, H, W)
    m = GanModelConfig(size=cache.size, channels=cache.channels, width=args.width, residual=args.residual)
    g, d, flow = build_generator(m), PatchDiscriminator(cache.channels, args.width), HornSchunck()
    cfg = TrainGanConfig(lr_g=args.lr)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr_g, betas=(0.5, 0.999))  # as vgisgan.gan.build_optimizers
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr_d, betas=(0.5, 0.999))
    emas = {float(x): copy.deepcopy(g) for x in args.ema.split(",") if x}
    out: dict = {"lr": args.lr, "schedule": args.schedule, "iters": args.iters, "seed": args.seed}
    out["residual"] = args.residual
    t0 = time.perf_counter()
    for i in range(args.iters):
        for group in opt_g.param_groups:
            group["lr"] = lr_at(args, i)
        train_step(g, d, flow, opt_g, opt_d, sampler.sample(4), cfg)
        for decay, ema in emas.items():
            update_ema(ema, g, decay, i)
        if (i + 1) % 400 == 0 or i + 1 == args.iters:
            out[f"heldout_psnr_{i + 1}"] = round(prediction_psnr(g, heldout), 3)
            for decay, ema in emas.items():
                out[f"ema{decay:g}_heldout_psnr_{i + 1}"] = round(prediction_psnr(ema, heldout), 3)
    out["train_s"] = round(time.perf_counter() - t0, 1)
    if args.test_auc:
        out["test_auc"] = round(100 * test_auc(g, cache, m.t_past), 2)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
