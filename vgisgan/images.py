"""Image grids for previews and training samples."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np


def grid(rows: list[np.ndarray], pad: int = 2) -> np.ndarray:
    """Rows of uint8 frames (N, H, W, C) -> one (rows*(H+pad), N*(W+pad), C) image; short rows are padded."""
    n = max(len(r) for r in rows)
    h, w, c = rows[0].shape[1:]
    out = np.full((len(rows) * (h + pad) + pad, n * (w + pad) + pad, c), 255, np.uint8)
    for i, row in enumerate(rows):
        for j, frame in enumerate(row):
            y, x = pad + i * (h + pad), pad + j * (w + pad)
            out[y : y + h, x : x + w] = frame
    return out


def save_png(path: Path, img: np.ndarray, min_side: int = 256) -> None:
    """Save an RGB or gray image, enlarged (nearest neighbour) so that small frames stay visible."""
    scale = max(1, int(np.ceil(min_side / max(img.shape[:2]))))
    if scale > 1:
        img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    if img.ndim == 3 and img.shape[2] == 3:
        img = img[..., ::-1]
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), img):
        raise OSError(f"could not write {path}")
