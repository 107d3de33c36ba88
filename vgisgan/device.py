"""Choose the torch device and the CPU thread count once, from --device and --threads, and pass them down."""

from __future__ import annotations

import torch

from vgisgan.errors import VgisganError


def resolve_device(spec: str, threads: int | None = None) -> torch.device:
    """The device named by `spec`; with `threads`, also fix how many CPU threads torch uses.

    The thread count is set here, once per command, because it changes results: float sums split over a
    different number of threads round differently, and over thousands of training steps that moves an AUC by
    tenths of a point (docs/RESULTS.md). Stages record it in their manifest summaries (`runtime`).
    """
    if threads is not None:
        if threads < 1:
            raise VgisganError(f"--threads {threads}: give a number of CPU threads of at least 1")
        torch.set_num_threads(threads)
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


def runtime(device: torch.device) -> dict:
    """What a manifest records about where a stage ran: results depend on both (see `resolve_device`)."""
    return {"device": str(device), "threads": torch.get_num_threads()}
