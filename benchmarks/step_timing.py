"""What the step benchmarks share: their command-line options and the timed loop."""

from __future__ import annotations

import argparse
import time
from typing import Callable

import torch


def step_parser(doc: str, width: int, batch: int) -> argparse.ArgumentParser:
    """--size, --width, --batch, --steps, --repeat and --device, with this benchmark's defaults."""
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--width", type=int, default=width)
    ap.add_argument("--batch", type=int, default=batch)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--device", default="cpu")
    return ap


def seconds_per_call(step: Callable[[], None], steps: int, device: torch.device, warmup: int = 3) -> float:
    """Mean seconds of `step()` over `steps` calls after `warmup` untimed ones (CUDA work waited for)."""
    for _ in range(warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return (time.perf_counter() - t0) / steps
