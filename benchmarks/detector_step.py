"""Seconds per train-detector step (one member: forward, loss, backward, Adam), by head.

    python benchmarks/detector_step.py [--size 128] [--width 12] [--batch 32] [--steps 20] [--repeat 3] [--device cpu]

Random inputs shaped like the cpu preset's (4 past frames, grayscale); each repeat times `--steps` steps after
3 warm-up ones, alternating the heads so that a machine slowing down in the middle hits both alike, and the
median over repeats is reported for the `pooled` and the `regions` head. Run it with nothing else on the machine.
"""

from __future__ import annotations

import statistics

import torch
import torch.nn.functional as F
from step_timing import seconds_per_call, step_parser  # benchmarks/step_timing.py, beside this script

from vgisgan.device import resolve_device
from vgisgan.models.detector import build_member


def seconds_per_step(head: str, size: int, width: int, batch: int, steps: int, device: torch.device) -> float:
    torch.manual_seed(0)
    model = build_member({"channels": 1, "t_past": 4, "width": width, "head": head}).to(device).train()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    past = torch.rand(batch, 4, size, size, device=device) * 2 - 1  # (B, T*C, H, W)
    candidate = torch.rand(batch, 1, size, size, device=device) * 2 - 1  # (B, C, H, W)
    labels = (torch.arange(batch, device=device) % 2).float()

    def step() -> None:
        loss = F.binary_cross_entropy_with_logits(model(past, candidate), labels)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return seconds_per_call(step, steps, device)


def main() -> None:
    args = step_parser(__doc__, width=12, batch=32).parse_args()
    device = resolve_device(args.device)
    runs: dict[str, list[float]] = {"pooled": [], "regions": []}
    for _ in range(args.repeat):
        for head in runs:
            runs[head].append(seconds_per_step(head, args.size, args.width, args.batch, args.steps, device))
    medians = {head: statistics.median(r) for head, r in runs.items()}
    for head, m in medians.items():
        print(f"{head:8s} {m:.4f} s/step (runs: {', '.join(f'{r:.4f}' for r in runs[head])})")
    print(f"regions / pooled: {medians['regions'] / medians['pooled']:.3f}")


if __name__ == "__main__":
    main()
