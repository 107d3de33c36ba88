"""Helpers shared by the training stages: graceful stop on Ctrl-C/SIGTERM, the CSV training log and the
learning-rate schedule."""

from __future__ import annotations

import csv
import signal
import threading
from pathlib import Path
from types import FrameType


class StopRequest:
    """While active, Ctrl-C or SIGTERM only sets `requested`; the loop stops after the current iteration,
    saves a checkpoint and raises KeyboardInterrupt. A second Ctrl-C interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self._old: dict[int, object] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    def __enter__(self) -> "StopRequest":
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


class CsvLog:
    """Append-only CSV of logged steps; on resume, rows past the checkpoint's iteration are dropped."""

    def __init__(self, path: Path, keep_until: int, step: str = "iter"):
        self.path = path
        rows: list[dict] = []
        if path.exists() and keep_until > 0:
            with open(path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if int(r[step]) <= keep_until]
        self.fields: list[str] | None = list(rows[0].keys()) if rows else None
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "w", newline="") as f:
            if self.fields:
                w = csv.DictWriter(f, self.fields)
                w.writeheader()
                w.writerows(rows)

    def append(self, row: dict) -> None:
        if self.fields is None:
            self.fields = list(row.keys())
            with open(self.path, "w", newline="") as f:
                csv.DictWriter(f, self.fields).writeheader()
        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, self.fields, extrasaction="ignore").writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )


def decayed_lr(base: float, step: int, total: int, decay: float) -> float:
    """The rate of 0-based `step` of `total`: `base`, then linear to 0 over the last `decay` share of the steps.

    Far from convergence a constant rate learns fastest; letting it fall at the end trades the last steps'
    progress for less noise in the weights the run stops with."""
    tail = total * decay
    if tail <= 0:
        return base
    return base * min(1.0, (total - step) / tail)
