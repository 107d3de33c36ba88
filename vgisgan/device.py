"""Choose the torch device and the CPU thread count once, from --device and --threads, and pass them down."""

from __future__ import annotations

import platform
from pathlib import Path

import torch

from vgisgan.errors import VgisganError


def resolve_device(spec: str, threads: int | None = None) -> torch.device:
    """The device named by `spec`; with `threads`, also fix how many CPU threads torch uses.

    The thread count is set here, once per command, because it changes results: float sums split over a
    different number of threads round differently, and over thousands of training steps that moves an AUC by
    tenths of a point (docs/results-history.md). Stages record it in their manifest summaries (`runtime`).
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
    """What a manifest records about where a stage ran. Results depend on all of it: the thread count (see
    `resolve_device`), and the processor, whose vector units sum floats in another order (the same seed and
    thread count gave other synthetic-set scores on an AVX-512 Xeon than on earlier CPUs, docs/results-history.md):
    `cpu_kernels` names the instruction set torch's CPU kernels run with (AVX2, AVX512, ...)."""
    out = {
        "device": str(device),
        "threads": torch.get_num_threads(),
        "cpu": cpu_name(),
        "cpu_kernels": torch.backends.cpu.get_cpu_capability(),
    }
    if device.type == "cuda":
        out["gpu"] = torch.cuda.get_device_name(device)
    return out


def cpu_name(cpuinfo: Path = Path("/proc/cpuinfo")) -> str:
    """The processor's model name from /proc/cpuinfo on Linux, with its family and model numbers, which tell
    CPUs apart where a virtual machine names them all alike ("Intel(R) Xeon(R) Processor (family 6, model 207)");
    else what the platform module knows (it may be only the architecture)."""
    try:
        fields = _first_processor(cpuinfo.read_text(errors="replace"))
    except OSError:
        fields = {}
    name = fields.get("model name")
    if not name:
        return platform.processor() or platform.machine() or "unknown"
    family, model = fields.get("cpu family"), fields.get("model")
    return f"{name} (family {family}, model {model})" if family and model else name


def _first_processor(text: str) -> dict[str, str]:
    """The `key: value` lines of the first processor's block of /proc/cpuinfo."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip() and fields:
            break
        key, _, value = line.partition(":")
        fields.setdefault(key.strip(), value.strip())
    return fields
