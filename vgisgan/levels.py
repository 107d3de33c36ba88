"""Each region's normal level: how abnormal a regions detector finds each cell of normal video on average.

A regions detector scores a frame by its most abnormal cell. Cells differ in how high they sit on normal video:
on Ped2 (seed 24's detector, members averaged) the walkway's busiest cells sit near -5.2 on held-out normal video,
the lawn and the frame's left edge near -7 to -8 (benchmarks/cell_levels.py prints the map), so a cyclist entering
at the edge who raises his cell by about a logit still stays below the walkway's usual level: the frame's maximum
barely moves. Scoring each
cell against its own level (its logit minus its mean on normal video) lets a rise anywhere count alike.

The levels are measured in train-detector on the training videos the detector held out (never trained on), so
they are what the detector makes of unseen normal video; no test frame is read. Each member has its own levels,
and so has each view of the window (vgisgan/views.py): the mirrored clip's cells are levelled in the mirrored frame,
the reversed clip's against the reversed clip's, as evaluate scores them. Files made by vgisgan 0.18.0 hold the plain
and mirrored views only.
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
from vgisgan.views import VIEWS, view_of

LEVELS_FILE = "cell_levels.safetensors"
REQUIRED = ("plain", "mirrored")  # in every levels file; the reversed views since 0.19.0


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
    """Mean cell logit of each member over every frame of its held-out training `videos`, in every view.

    Returns {view: (M, h, w)} on the CPU for each of views.VIEWS.
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
                for view in VIEWS:
                    clip = view_of(view, past, target)
                    sums[view] = sums[view] + cell_logits(member, *clip).float().sum(0).cpu()  # (1, h, w)
                count += len(pos)
        if count == 0:
            raise VgisganError("the held-out training videos have no frame with enough past frames to level the cells")
        for v in VIEWS:
            out[v].append(sums[v][0] / count)
    return {v: torch.stack(out[v]) for v in VIEWS}


def save_levels(levels: dict[str, torch.Tensor], folder: Path) -> None:
    save_file({v: t.contiguous() for v, t in levels.items()}, str(folder / LEVELS_FILE))


def load_levels(folder: Path, members: int, device: torch.device) -> dict[str, torch.Tensor] | None:
    """The levels a detector artifact holds, by view, or None where it has none (made before vgisgan 0.18.0)."""
    path = folder / LEVELS_FILE
    if not path.exists():
        return None
    levels = {v: t for v, t in load_file(str(path), device="cpu").items() if v in VIEWS}
    shapes = {v: tuple(t.shape) for v, t in levels.items()}
    if any(v not in levels for v in REQUIRED) or any(len(s) != 3 or s[0] != members for s in shapes.values()):
        raise VgisganError(
            f"{path}: expected levels of {members} members (M, h, w) for at least the {' and '.join(REQUIRED)} views, "
            f"found {shapes}: train the detector again (train-detector --force)"
        )
    return {v: t.to(device) for v, t in levels.items()}
