"""Throughput of `vgisgan prepare` on UCSD Ped2 (frames decoded, resized and cached per second).

    python benchmarks/prepare.py [--source ../shared/datasets/ped2] [--size 256x256] [--workers 2] [--repeat 3]

Each repeat prepares into a fresh temporary store (--force is implied) and the median is reported.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from vgisgan.config import PrepareConfig, parse_size
from vgisgan.stages import prepare
from vgisgan.store import Store


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--source", default=str(Path(__file__).resolve().parents[2] / "shared/datasets/ped2"))
    ap.add_argument("--size", default="256x256")
    ap.add_argument("--channels", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--storage", default="raw")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    cfg = PrepareConfig(
        dataset="ped2",
        source=args.source,
        size=parse_size(args.size),
        channels=args.channels,
        workers=args.workers,
        storage=args.storage,
    )
    rates, frames, size = [], 0, 0
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            art = prepare.run(cfg, Store(tmp), force=True).artifact
            dt = time.perf_counter() - t0
            s = art.manifest.summary
            frames, size = s["train"]["frames"] + s["test"]["frames"], s["bytes"]
            rates.append(frames / dt)
    print(
        f"prepare ped2 {args.size} x{args.channels} {args.storage}, {args.workers} workers: {frames} frames, "
        f"median {statistics.median(rates):.0f} frames/s (min {min(rates):.0f}, max {max(rates):.0f}, "
        f"{args.repeat} runs), cache {size / 2**20:.1f} MiB"
    )


if __name__ == "__main__":
    main()
