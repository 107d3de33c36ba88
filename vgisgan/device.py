"""Choose the torch device once, from --device, and pass it down."""

from __future__ import annotations

import torch

from vgisgan.errors import VgisganError


def resolve_device(spec: str) -> torch.device:
    spec = spec.strip().lower()
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "cuda" or spec.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise VgisganError(
                f"--device {spec}: CUDA is not available here (CPU-only torch or no GPU); use --device cpu"
            )
        dev = torch.device(spec)
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise VgisganError(f"--device {spec}: only {torch.cuda.device_count()} GPU(s) visible")
        return dev
    raise VgisganError(f"--device {spec!r} is not one of auto, cpu, cuda, cuda:N")
