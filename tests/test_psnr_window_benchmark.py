"""benchmarks/psnr_window.py scores real next frames and pseudo-anomalies of training videos at each window."""

from __future__ import annotations

import numpy as np
import torch
from conftest import load_benchmark
from torch import nn

from vgisgan.data.cache import FrameCache
from vgisgan.data.clips import to_tensor
from vgisgan.store import Store


class Oracle(nn.Module):
    """Predicts each past's real next frame exactly, looked up by the past's content."""

    def __init__(self, past: torch.Tensor, real: np.ndarray):
        super().__init__()
        self.lookup = {p.numpy().tobytes(): f for p, f in zip(past, to_tensor(real))}

    def forward(self, past: torch.Tensor) -> torch.Tensor:
        return torch.stack([self.lookup[p.numpy().tobytes()] for p in past])


def test_a_perfect_predictor_tells_every_moving_candidate_from_the_real_frame(frames_store):
    script = load_benchmark("psnr_window")
    cache = FrameCache(Store(frames_store).resolve("frames/synthetic", "frames").path)
    past, kinds = script.candidates(cache, t_past=4, n=16, skip=3, frac=0.25, seed=0)
    assert past.shape == (16, 4, 32, 32) and all(v.shape == (16, 32, 32, 1) for v in kinds.values())
    changed = [bool((kinds[k] != kinds["real"]).any(axis=(1, 2, 3)).all()) for k in ("skip-frame", "local-skip")]
    assert changed == [True, True]  # the synthetic objects move every frame, so every candidate differs
    aucs = script.window_aucs(Oracle(past, kinds["real"]), past, kinds, [1.0, 0.25])
    assert aucs == {w: {"skip-frame": 100.0, "local-skip": 100.0} for w in ("1.0", "0.25")}
