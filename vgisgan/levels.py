"""Each region's normal level: how abnormal a regions detector finds each cell of normal video on average.

A regions detector scores a frame by its most abnormal cell. Cells differ in how high they sit on normal video:
on Ped2 (seed 24's detector, members averaged) the walkway's busiest cells sit near -5.2 on held-out normal video,
the lawn and the frame's left edge near -7 to -8 (benchmarks/cell_levels.py prints the map), so a cyclist entering
at the edge who raises his cell by about a logit still stays below the walkway's usual level: the frame's maximum
barely moves. Scoring each
cell against its own level (its logit minus its mean on normal video) lets a rise anywhere count alike.

The levels are measured in train-detector on the training videos the detector held out (never trained on), so
they are what the detector makes of unseen normal video; no test frame is read. Each member has its own levels,
and so has each view: the mirrored clip's cells are levelled in the mirrored frame, as evaluate scores them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file, save_file

from vgisgan.data.cache import FrameCache
from vgisgan.data.clips import to_tensor
from vgisgan.data.examples import split_videos
from vgisgan.errors import VgisganError
from vgisgan.models.detector import cell_logits, reads_prediction, scores_regions

LEVELS_FILE = "cell_levels.safetensors"
VIEWS = ("plain", "mirrored")


def has_levels(config: dict) -> bool:
    """Whether train-detector measures a detector's cell levels: a regions detector that reads frames alone (one that
    reads the normal generator's prediction would need it for the held-out videos too; not done)."""
    return scores_regions(config) and not reads_prediction(config)


def held_out_videos(config: dict, cache: FrameCache) -> list[list[int]]:
    """The training videos each member of a `detector` artifact's config held out, as its examples were split."""
    n, members = len(cache.videos("train")), config.get("members", 1)
    seeds = [config["seed"] + i if config.get("member_splits") else config["seed"] for i in range(members)]
    return [sorted(int(v) for v in split_videos(n, config["val_fraction"], seed)) for seed in seeds]


@torch.no_grad()
def measure_levels(
    members: list[torch.nn.Module],
    videos: list[list[int]],
    cache: FrameCache,
    t_past: int,
    batch: int,
    device: torch.device,
) -> dict[str, torch.Tensor]:
    """Mean cell logit of each member over every frame of its held-out training `videos`, in both views.

    Returns {"plain": (M, h, w), "mirrored": (M, h, w)} on the CPU.
    """
    out: dict[str, list[torch.Tensor]] = {v: [] for v in VIEWS}
    for member, own in zip(members, videos):
        sums = {v: torch.zeros(()) for v in VIEWS}
        count = 0
        for video in own:
            x = to_tensor(np.asarray(cache.video("train", video)))  # (L, C, H, W)
            for start in range(t_past, len(x), batch):
                pos = range(start, min(start + batch, len(x)))
                past = torch.stack([x[p - t_past : p].flatten(0, 1) for p in pos]).to(device)  # (B, T*C, H, W)
                target = x[list(pos)].to(device)
                for view, clip in zip(VIEWS, ((past, target), (past.flip(-1), target.flip(-1)))):
                    sums[view] = sums[view] + cell_logits(member, *clip).float().sum(0).cpu()  # (1, h, w)
                count += len(pos)
        if count == 0:
            raise VgisganError("the held-out training videos have no frame with enough past frames to level the cells")
        for v in VIEWS:
            out[v].append(sums[v][0] / count)
    return {v: torch.stack(out[v]) for v in VIEWS}


def save_levels(levels: dict[str, torch.Tensor], folder: Path) -> None:
    save_file({v: levels[v].contiguous() for v in VIEWS}, str(folder / LEVELS_FILE))


def load_levels(folder: Path, members: int, device: torch.device) -> dict[str, torch.Tensor] | None:
    """The levels a detector artifact holds, or None where it has none (made before vgisgan 0.18.0)."""
    path = folder / LEVELS_FILE
    if not path.exists():
        return None
    levels = load_file(str(path), device="cpu")
    shapes = {v: tuple(levels[v].shape) if v in levels else None for v in VIEWS}
    if any(s is None or len(s) != 3 or s[0] != members for s in shapes.values()):
        raise VgisganError(
            f"{path}: expected {' and '.join(VIEWS)} levels of {members} members (M, h, w), found {shapes}: "
            "train the detector again"
        )
    return {v: levels[v].to(device) for v in VIEWS}
