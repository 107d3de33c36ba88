"""Test-time views of a detector's window: the T+1 frames it reads, as they are, mirrored, played backwards, or both.

Normal motion on a walkway looks as normal mirrored left-right, and as normal played backwards (people walk both
ways); a cyclist stays fast in every view. Scoring a window in several views and taking the mean of the logits
averages out some of one detector's quirks (docs/results-history.md, sections "Fresh seeds 25 and 26" and "Reversed
views"). The views are of the same window: a reversed view reads frames p, p-1, ..., p-T+1 as its past and frame
p-T as its candidate, so it still scores the window that ends at frame p.

A view applies only where it shows the detector what it was trained on: the reversed views need a detector that
reads the whole window from frames alone (one that reads the normal generator's prediction of frame p, or judges
the candidate frame alone, would see a different frame; `reverses`).
"""

from __future__ import annotations

import torch

from vgisgan.models.detector import cell_logits, reads_prediction

VIEWS = ("plain", "mirrored", "reversed", "reversed-mirrored")


def chosen_views(flip: bool, reverse: bool) -> tuple[str, ...]:
    """The views a score averages: always the plain one; the mirrored ones with `flip`, the reversed with `reverse`."""
    return tuple(v for v in VIEWS if (flip or "mirrored" not in v) and (reverse or "reversed" not in v))


def reverses(config: dict) -> bool:
    """Whether a `detector` artifact's detector can score its window played backwards (see the module's docstring)."""
    return config.get("arch", "two-stream") != "ognet" and not reads_prediction(config)


def view_of(view: str, past: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The window as `view` shows it: past (B, T*C, H, W) and target (B, C, H, W) in, the same shapes out."""
    if view.startswith("reversed"):
        c = target.shape[1]
        window = torch.cat([past, target], dim=1).unflatten(1, (-1, c)).flip(1)  # (B, T+1, C, H, W), newest first
        past, target = window[:, :-1].flatten(1, 2), window[:, -1]
    if view.endswith("mirrored"):
        past, target = past.flip(-1), target.flip(-1)
    return past, target


def _view_scores(detector, past, target, read, cells: bool, levels) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The detector's frame logits (B,) and, with `cells`, its cell logits averaged over members (B, h, w).

    With `levels` (M, h, w), each member's cells are scored against their normal level (vgisgan/levels.py)."""
    if not cells and levels is None:
        return detector(past, target, read).float(), None
    maps = cell_logits(detector, past, target, read).float()  # (B, M, h, w)
    if levels is not None:
        maps = maps - levels
    return maps.amax(dim=(2, 3)).mean(dim=1), maps.mean(dim=1)  # the first is what the detector's forward computes


def detector_scores(
    detector, past, target, read, cells: bool, views: tuple[str, ...], levels: dict[str, torch.Tensor] | None = None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The mean over `views` of _view_scores, each mirrored cell map mirrored back onto the frame it came from.

    `read`: the normal generator's prediction of the target, for a detector that reads it (then no reversed view);
    `levels`: each view's cell levels, or None."""
    if read is not None and any(v.startswith("reversed") for v in views):
        raise ValueError("a detector that reads the normal generator's prediction has no reversed view")
    logits, maps = [], []
    for view in views:
        p, x = view_of(view, past, target)
        r = read.flip(-1) if read is not None and view == "mirrored" else read
        logit, m = _view_scores(detector, p, x, r, cells, None if levels is None else levels[view])
        logits.append(logit)
        if m is not None:
            maps.append(m.flip(-1) if view.endswith("mirrored") else m)
    return torch.stack(logits).mean(0), torch.stack(maps).mean(0) if maps else None
