"""Clips from a frame cache as tensors: random ones for training, consecutive ones for scoring."""

from __future__ import annotations

import numpy as np
import torch

from vgisgan.data.cache import FrameCache


def to_tensor(frames: np.ndarray) -> torch.Tensor:
    """uint8 (..., H, W, C) -> float (..., C, H, W) in [-1, 1]."""
    t = torch.tensor(np.asarray(frames), dtype=torch.float32)  # a copy: cache arrays are read-only
    return (t / 127.5 - 1).movedim(-1, -3)


def to_uint8(x: torch.Tensor) -> np.ndarray:
    """float (..., C, H, W) in [-1, 1] -> uint8 (..., H, W, C)."""
    return ((x.detach().float().clamp(-1, 1) + 1) * 127.5 + 0.5).to(torch.uint8).movedim(-3, -1).cpu().numpy()


class ClipSampler:
    """Random clips of `n` consecutive frames across all videos of a split, from a seeded generator."""

    def __init__(
        self, cache: FrameCache, split: str, n: int, seed: int, flip: bool = False, videos: list[int] | None = None
    ):
        self.cache, self.split, self.n, self.flip = cache, split, n, flip
        starts = cache.clip_starts(split, n)
        if videos is not None:
            starts = starts[np.isin(starts[:, 0], videos)]
        self.starts = starts
        self.generator = torch.Generator().manual_seed(seed)

    def indices(self, batch: int) -> np.ndarray:
        picks = torch.randint(len(self.starts), (batch,), generator=self.generator).numpy()
        return self.starts[picks]  # (B, 2): video, start

    def load(self, rows: np.ndarray) -> torch.Tensor:
        clips = np.stack([self.cache.clip(self.split, int(v), int(s), self.n) for v, s in rows])
        return to_tensor(clips)  # (B, n, C, H, W)

    def sample(self, batch: int) -> torch.Tensor:
        clips = self.load(self.indices(batch))
        if self.flip:
            flips = torch.rand(batch, generator=self.generator) < 0.5
            clips[flips] = clips[flips].flip(-1)
        return clips
