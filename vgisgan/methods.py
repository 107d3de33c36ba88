"""How each method makes pseudo-anomalies from normal training clips (see docs/methods.md).

Every maker returns a PseudoBatch: for each example, the (video, frame) of the position it stands for (its
past is the T frames before it, at the batch's stride: frames frame-T, ..., frame-1 at stride 1), the
pseudo-anomalous candidate frame and, where a normal predictor exists, the normal prediction for the same past.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vgisgan.data.cache import FrameCache
from vgisgan.data.clips import ClipSampler, to_uint8


@dataclass
class PseudoBatch:
    rows: np.ndarray  # (B, 2) int: video index, frame index of the candidate's position
    pseudo: np.ndarray  # (B, H, W, C) uint8
    normal: np.ndarray | None  # (B, H, W, C) uint8, or None
    stride: int = 1  # frames between the past frames, and from the last of them to the candidate


@torch.no_grad()
def ffp_pseudo(sampler: ClipSampler, g_normal, g_pseudo, device: torch.device, batch: int, t_past: int) -> PseudoBatch:
    """The pseudo-anomaly generator of the two-branch GAN (and the normal prediction beside it)."""
    from vgisgan.gan import pseudo_forward

    idx = sampler.indices(batch)
    clip = sampler.load(idx).to(device)  # (B, T+1, C, H, W)
    b, n, c, h, w = clip.shape
    past = clip[:, :-1].reshape(b, (n - 1) * c, h, w)
    rows = idx + np.array([0, t_past])
    return PseudoBatch(rows, to_uint8(pseudo_forward(g_pseudo, past, clip[:, -1])), to_uint8(g_normal(past)))


def skip_frame(sampler: ClipSampler, batch: int, t_past: int) -> PseudoBatch:
    """Temporal pseudo-anomaly: the candidate is the frame `skip` steps after the last past frame, i.e. the
    scene moved several times too fast (Astrid et al., BMVC 2021). The sampler's clips are T+skip long."""
    idx = sampler.indices(batch)
    clips = np.stack([sampler.cache.clip("train", int(v), int(s), sampler.n) for v, s in idx])
    return PseudoBatch(idx + np.array([0, t_past]), clips[:, -1], None)


def fast_forward(sampler: ClipSampler, batch: int, t_past: int, skip: int) -> PseudoBatch:
    """Temporal pseudo-anomaly that is fast throughout: the past frames and the candidate are every `skip`-th
    frame of a real clip, so everything moves `skip` times too fast in every step, as a cyclist among walkers
    does. skip-frame keeps the past at normal speed and jumps only the candidate, which a detector can tell by
    the last step being longer than the ones before (an acceleration). The candidate is a real frame: only
    the past it follows is abnormal. The sampler's clips are T*skip+1 long."""
    idx = sampler.indices(batch)
    candidates = np.stack([sampler.cache.clip("train", int(v), int(s) + t_past * skip, 1)[0] for v, s in idx])
    return PseudoBatch(idx + np.array([0, t_past * skip]), candidates, None, stride=skip)


def patch(sampler: ClipSampler, batch: int, t_past: int, frac: float, rng: np.random.Generator) -> PseudoBatch:
    """Spatial pseudo-anomaly: the real next frame with a patch of another clip's frame pasted at a random
    place, so something appears where nothing moved (Astrid et al., BMVC 2021)."""
    idx = sampler.indices(batch)
    donors = sampler.indices(batch)
    out = []
    for (v, s), (dv, ds) in zip(idx, donors):
        target = sampler.cache.clip("train", int(v), int(s) + t_past, 1)[0].copy()
        donor = sampler.cache.clip("train", int(dv), int(ds) + t_past, 1)[0]
        h, w = target.shape[:2]
        ph, pw = patch_size(target, frac)
        sy, sx = rng.integers(0, h - ph + 1), rng.integers(0, w - pw + 1)
        ty, tx = rng.integers(0, h - ph + 1), rng.integers(0, w - pw + 1)
        target[ty : ty + ph, tx : tx + pw] = donor[sy : sy + ph, sx : sx + pw]
        out.append(target)
    return PseudoBatch(idx + np.array([0, t_past]), np.stack(out), None)


def patch_size(frame: np.ndarray, frac: float) -> tuple[int, int]:
    """(height, width) of a patch whose sides are `frac` of the frame's (H, W, C), at least 2 pixels."""
    h, w = frame.shape[:2]
    return max(int(h * frac), 2), max(int(w * frac), 2)


def local_skip(sampler: ClipSampler, batch: int, t_past: int, frac: float) -> PseudoBatch:
    """Local temporal pseudo-anomaly: the real next frame, except in one patch that shows the frame `skip`
    steps after the last past frame, so one thing moves too fast while the rest of the scene moves as it
    should (a cyclist among walkers). A whole-frame skip-frame speeds up every walker at once, which the
    normal generator's whole-frame PSNR sees as well; a small local one it barely does. The patch sits where
    the two frames differ most, so it covers something that moves (where nothing moves, it changes nothing).
    The sampler's clips are T+skip long."""
    idx = sampler.indices(batch)
    out = []
    for v, s in idx:
        clip = sampler.cache.clip("train", int(v), int(s), sampler.n)  # (T+skip, H, W, C) uint8
        target, ahead = clip[t_past].copy(), clip[-1]
        ph, pw = patch_size(target, frac)
        ty, tx = busiest_window(np.abs(ahead.astype(np.int32) - target).sum(axis=2), ph, pw)
        target[ty : ty + ph, tx : tx + pw] = ahead[ty : ty + ph, tx : tx + pw]
        out.append(target)
    return PseudoBatch(idx + np.array([0, t_past]), np.stack(out), None)


def busiest_window(diff: np.ndarray, ph: int, pw: int) -> tuple[int, int]:
    """Top-left corner of the (ph, pw) window of `diff` (H, W) with the largest sum (the first on a tie)."""
    s = np.pad(diff, ((1, 0), (1, 0))).cumsum(0).cumsum(1)  # summed-area table, (H+1, W+1)
    sums = s[ph:, pw:] - s[:-ph, pw:] - s[ph:, :-pw] + s[:-ph, :-pw]  # (H-ph+1, W-pw+1)
    y, x = np.unravel_index(int(sums.argmax()), sums.shape)
    return int(y), int(x)


def real_targets(cache: FrameCache, rows: np.ndarray, strides: np.ndarray | None = None) -> np.ndarray:
    """The real frames at the rows' positions: (B, H, W, C) uint8. With `strides`, the real frame right after
    each row's last past frame instead (frame - stride + 1): what a normal clip would show next."""
    back = np.zeros(len(rows), np.int64) if strides is None else np.asarray(strides) - 1
    return np.stack([cache.clip("train", int(v), int(f) - int(b), 1)[0] for (v, f), b in zip(rows, back)])


def pasts(cache: FrameCache, rows: np.ndarray, t_past: int, strides: np.ndarray | None = None) -> torch.Tensor:
    """The T frames before each row's position, every stride-th (1 where `strides` is None), stacked on
    channels: (B, T*C, H, W) in [-1, 1]."""
    from vgisgan.data.clips import to_tensor

    steps = np.ones(len(rows), np.int64) if strides is None else np.asarray(strides)
    clips = to_tensor(
        np.stack(
            [
                cache.clip("train", int(v), int(f) - t_past * int(s), t_past * int(s))[:: int(s)]
                for (v, f), s in zip(rows, steps)
            ]
        )
    )
    b, t, c, h, w = clips.shape
    return clips.reshape(b, t * c, h, w)
