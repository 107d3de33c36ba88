"""scores.csv, the table `evaluate` writes: one row per scored test (video, frame), labels joined by that key.

Columns: video, frame, label (empty without labels), psnr (dB, empty without a GAN), and the scores, higher = more
abnormal: score_psnr, score_detector, score_combined (each empty where its part is missing).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from vgisgan.data.cache import FrameCache

COLUMNS = ("video", "frame", "label", "psnr", "score_psnr", "score_detector", "score_combined")
SCORES = ("score_psnr", "score_detector", "score_combined")


def join_labels(table: dict, cache: FrameCache) -> np.ndarray | None:
    """Label of each scored row, looked up by (video, frame)."""
    if not cache.has_labels:
        return None
    lookup = {}
    for i, info in enumerate(cache.videos("test")):
        for f, y in enumerate(cache.labels(i)):
            lookup[(info.name, f)] = int(y)
    return np.array([lookup[(v, int(f))] for v, f in zip(table["video"], table["frame"])], np.int64)


def available_scores(table: dict) -> list[str]:
    """The score columns the table holds (a run without a GAN has no psnr, one without a detector no detector)."""
    return [s for s in SCORES if table.get(s) is not None]


def write_scores(table: dict, path: Path) -> None:
    """The table as CSV: floats to 6 significant digits, an absent column left empty on every row."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for i in range(len(table["video"])):
            w.writerow(
                [
                    ""
                    if table[c] is None
                    else (f"{table[c][i]:.6g}" if isinstance(table[c][i], float | np.floating) else table[c][i])
                    for c in COLUMNS
                ]
            )


def read_scores(path: Path) -> dict[str, np.ndarray | None]:
    """scores.csv as evaluate's table: video (object), frame and label (int64), psnr and the scores (float64); a column
    that is absent or empty on any row is None."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    table: dict[str, np.ndarray | None] = {"video": np.array([r["video"] for r in rows], dtype=object)}
    for col, kind in [("frame", np.int64), ("label", np.int64), ("psnr", np.float64)] + [
        (s, np.float64) for s in SCORES
    ]:
        values = [r.get(col) or "" for r in rows]
        table[col] = None if not rows or "" in values else np.array([float(v) for v in values]).astype(kind)
    return table
