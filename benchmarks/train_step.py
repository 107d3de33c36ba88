"""Seconds per train-gan iteration (both branches, both discriminators, the flow), by memory format.

    python benchmarks/train_step.py [--size 128] [--width 16] [--batch 4] [--steps 20] [--repeat 3] [--device cpu]

Random clips, the cpu preset's networks; each repeat times `--steps` iterations after 3 warm-up ones, and the
median over repeats is reported for contiguous (NCHW) and channels-last (NHWC) network weights. Run it
with nothing else on the machine: two torch jobs sharing two cores each run several times slower.
"""

from __future__ import annotations

import statistics

import torch
from step_timing import seconds_per_call, step_parser  # benchmarks/step_timing.py, beside this script

from vgisgan.config import GanModelConfig, TrainGanConfig
from vgisgan.device import resolve_device
from vgisgan.gan import build_nets, build_optimizers, train_step
from vgisgan.models.flow import HornSchunck


def seconds_per_step(size: int, width: int, batch: int, steps: int, channels_last: bool, device) -> float:
    torch.manual_seed(0)
    model = GanModelConfig(channels=1, size=(size, size), t_past=4, width=width, d_width=width)
    cfg = TrainGanConfig(width=width, d_width=width, batch_size=batch)
    nets = build_nets(model, HornSchunck())
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    for m in nets.trainable().values():
        m.to(device, memory_format=fmt)
    nets.flow.to(device)
    opts = build_optimizers(nets, cfg)
    clip = torch.rand(batch, 5, 1, size, size, device=device) * 2 - 1  # (B, T+1, C, H, W)
    return seconds_per_call(lambda: train_step(nets, opts, cfg, clip), steps, device)


def main() -> None:
    args = step_parser(__doc__, width=16, batch=4).parse_args()
    device = resolve_device(args.device)
    results = {}
    for name, channels_last in (("contiguous", False), ("channels-last", True)):
        runs = [
            seconds_per_step(args.size, args.width, args.batch, args.steps, channels_last, device)
            for _ in range(args.repeat)
        ]
        results[name] = statistics.median(runs)
        each = ", ".join(f"{r:.3f}" for r in runs)
        print(f"{name:14s} {results[name]:.3f} s/iteration (median of {args.repeat}: {each})")
    print(f"channels-last / contiguous: {results['channels-last'] / results['contiguous']:.3f}")


if __name__ == "__main__":
    main()
