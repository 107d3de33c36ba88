"""Stage `evaluate`: score every test frame that has T past frames, and measure the scores against the labels.

Scores (higher = more abnormal):
  score_psnr      minus the PSNR of the normal generator's prediction against the real frame (or its worst window,
                  or both compared at a coarser scale: EvaluateConfig.psnr_window, psnr_pool)
  score_detector  the detector's logit of abnormal (an ensemble's: the mean of its members' logits), not its sigmoid:
                  P(abnormal) rounds to 1.0 in float32 above a logit of about 16.6, tying the most confident frames;
                  with EvaluateConfig.flip and reverse, the mean of its logits of the window's views (mirrored
                  left-right, played backwards: vgisgan/views.py); with EvaluateConfig.cell_levels, each cell's
                  logit less its normal level (vgisgan/levels.py)
  score_combined  alpha * f(z(score_psnr)) + (1 - alpha) * f(z(score_detector)), z over all test frames (no labels),
                  f softplus or the identity (EvaluateConfig.fusion; vgisgan.metrics.combine)
Scores are computed per (video, frame) and joined to the labels by that key, never by position.
"""

from __future__ import annotations

import json
import time
from functools import partial
from typing import Callable

import numpy as np
import torch

from vgisgan.config import EvaluateConfig
from vgisgan.data.cache import FrameCache
from vgisgan.data.clips import to_tensor, to_uint8
from vgisgan.device import runtime
from vgisgan.errors import VgisganError
from vgisgan.levels import has_levels, load_levels
from vgisgan.losses import psnr
from vgisgan.metrics import combine, score_metrics
from vgisgan.models.detector import reads_prediction, scores_regions
from vgisgan.progress import Notes, Progress, no_notes, silent
from vgisgan.scores import available_scores, join_labels, write_scores
from vgisgan.stages.common import StageResult, run_hash, try_reuse
from vgisgan.stages.evaluate_inputs import check_predictor, check_shape, resolve_inputs
from vgisgan.store import Artifact, Store
from vgisgan.views import chosen_views, detector_scores, reverses

# What scores.csv's score_detector holds; evals before vgisgan 0.16.0 wrote "probability" and no such field.
DETECTOR_SCORE = "logit"

# Published frame-level micro AUCs (per-video normalisation) of Future Frame Prediction, Liu et al. CVPR 2018.
REFERENCES = {
    "ped1": {"FFP (published)": 83.1},
    "ped2": {"FFP (published)": 95.4},
    "avenue": {"FFP (published)": 85.1},
    "shanghaitech": {"FFP (published)": 72.8},
}


@torch.no_grad()
def score_video(
    frames: np.ndarray,
    t: int,
    g_normal,
    t_gan: int,
    detector,
    t_det: int,
    batch: int,
    device: torch.device,
    detector_reads_prediction: bool = False,
    cells: bool = False,
    psnr_of: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] = psnr,
    views: tuple[str, ...] = ("plain",),
    levels: dict[str, torch.Tensor] | None = None,
) -> dict:
    """Scores of frames t..L-1 of one video; frames (L, H, W, C) uint8.

    `psnr_of(prediction, target)` gives each frame's PSNR (B,): `losses.psnr` with the evaluation's window and pool.
    With `cells` (a regions detector), also each frame's cell logits, averaged over members: "cells" (N, h, w).
    The detector's scores (and cells) are the mean over its `views` of the window (vgisgan/views.py); with `levels`,
    each cell is scored against its normal level (vgisgan/levels.py).
    """
    x = to_tensor(frames)  # (L, C, H, W)
    positions = np.arange(t, len(frames))
    out = {"frame": positions, "psnr": [], "score_detector": [], "cells": []}
    for i in range(0, len(positions), batch):
        pos = positions[i : i + batch]
        target = x[pos].to(device)
        prediction = None
        if g_normal is not None:
            past = torch.stack([x[p - t_gan : p].flatten(0, 1) for p in pos]).to(device)  # (B, T*C, H, W)
            prediction = g_normal(past).float()  # (B, C, H, W)
            out["psnr"].append(psnr_of(prediction, target).cpu().numpy())
        if detector is not None:
            past = torch.stack([x[p - t_det : p].flatten(0, 1) for p in pos]).to(device)
            # A frames+error detector reads the prediction as it was trained to: rounded to 8 bits like the frames.
            read = to_tensor(to_uint8(prediction)).to(device) if detector_reads_prediction else None
            logit, maps = detector_scores(detector, past, target, read, cells, views, levels)
            out["score_detector"].append(logit.cpu().numpy())
            if maps is not None:
                out["cells"].append(maps.cpu().numpy())
    return {
        k: (np.concatenate(v) if isinstance(v, list) and v else (None if isinstance(v, list) else v))
        for k, v in out.items()
    }


def build_table(
    cache: FrameCache,
    gan: Artifact | None,
    det: Artifact | None,
    cfg: EvaluateConfig,
    device: torch.device,
    progress: Progress,
    levels: dict[str, torch.Tensor] | None = None,
    views: tuple[str, ...] = ("plain",),
) -> dict:
    g_normal = det_model = None
    t_gan = t_det = 0
    det_reads = cells = False
    if gan is not None:
        from vgisgan.gan import load_generators

        m, g_normal, _ = load_generators(gan.path, gan.manifest.config, device)
        t_gan = m.t_past
    if det is not None:
        from vgisgan.stages.train_detector import load_detector

        det_model, t_det = load_detector(det.path, det.manifest.config, device), det.manifest.config["t_past"]
        det_reads = reads_prediction(det.manifest.config)
        cells = cfg.plots and scores_regions(det.manifest.config)  # only the plots show where it fires
    t = max(t_gan, t_det)
    psnr_of = partial(psnr, window=cfg.psnr_window, pool=cfg.psnr_pool)
    cols: dict[str, list] = {"video": [], "frame": [], "psnr": [], "score_detector": [], "cells": []}
    for i, info in enumerate(cache.videos("test")):
        if info.length <= t:
            continue
        frames = np.asarray(cache.video("test", i))
        s = score_video(
            frames,
            t,
            g_normal,
            t_gan,
            det_model,
            t_det,
            cfg.batch_size,
            device,
            det_reads,
            cells,
            psnr_of,
            views,
            levels,
        )
        cols["video"].append(np.full(len(s["frame"]), info.name, dtype=object))
        for k in ("frame", "psnr", "score_detector", "cells"):
            if s[k] is not None:
                cols[k].append(s[k])
        progress("evaluate", i + 1, len(cache.videos("test")))
    table = {k: (np.concatenate(v) if v else None) for k, v in cols.items()}
    table["score_psnr"] = -table["psnr"] if table["psnr"] is not None else None
    return table


def detector_levels(det: Artifact | None, cfg: EvaluateConfig, device: torch.device, notes: Notes):
    """The detector's cell levels where it has them and cfg.cell_levels asks for them, else None."""
    if det is None or not cfg.cell_levels:
        return None
    levels = load_levels(det.path, det.manifest.config.get("members", 1), device)
    if levels is None and has_levels(det.manifest.config):
        notes(f"{det.ref} has no cell levels (made before vgisgan 0.18.0): its cells are scored as they are")
    return levels


def detector_views(det: Artifact | None, cfg: EvaluateConfig, levels, notes: Notes) -> tuple[str, ...]:
    """The views of each window the detector's score averages (vgisgan/views.py), as cfg asks where they apply."""
    reverse = cfg.reverse and det is not None
    if reverse and not reverses(det.manifest.config):
        notes(f"{det.ref} does not read its whole window from frames alone: scored without the reversed views")
        reverse = False
    elif reverse and levels is not None and any(v not in levels for v in chosen_views(cfg.flip, True)):
        notes(
            f"{det.ref} has no levels of the reversed views (made before vgisgan 0.19.0): scored without them; "
            "train-detector --force measures them"
        )
        reverse = False
    return chosen_views(cfg.flip, reverse)


def compute_metrics(table: dict, cfg: EvaluateConfig) -> dict:
    if table["label"] is None:
        return {}
    return {
        s: score_metrics(table["label"], table[s], table["video"], table["frame"], cfg.smooth)
        for s in available_scores(table)
    }


def run(
    cfg: EvaluateConfig,
    store: Store,
    gan_ref: str | None = None,
    detector_ref: str | None = None,
    frames_ref: str | None = None,
    name: str | None = None,
    device: torch.device = torch.device("cpu"),
    force: bool = False,
    progress: Progress = silent,
    notes: Notes = no_notes,
) -> StageResult:
    frames, gan, det = resolve_inputs(store, gan_ref, detector_ref, frames_ref)
    notes(f"frames: {frames.ref}, gan: {gan.ref if gan else 'none'}, detector: {det.ref if det else 'none'}")
    cache = FrameCache(frames.path)
    if gan is not None:
        check_shape(gan, gan.manifest.config["model"]["size"], gan.manifest.config["model"]["channels"], cache, frames)
    if det is not None:
        check_shape(det, det.manifest.config["size"], det.manifest.config["channels"], cache, frames)
        if gan is not None:
            check_predictor(det, gan, store)
    inputs = [store.input_ref("frames", frames)] + [
        store.input_ref(k, a) for k, a in (("gan", gan), ("detector", det)) if a
    ]
    config = cfg.model_dump(mode="json")
    name = name or (det or gan).manifest.name  # type: ignore[union-attr]
    key = run_hash("eval", config, inputs)
    if reused := try_reuse(store, "eval", name, key, force, notes):
        return reused

    levels = detector_levels(det, cfg, device, notes)
    views = detector_views(det, cfg, levels, notes)
    t0 = time.perf_counter()
    table = build_table(cache, gan, det, cfg, device, progress, levels, views)
    seconds = time.perf_counter() - t0
    if table["score_psnr"] is not None and table["score_detector"] is not None:
        table["score_combined"] = combine(table["score_psnr"], table["score_detector"], cfg.alpha, fusion=cfg.fusion)
    else:
        table["score_combined"] = None
    table["label"] = join_labels(table, cache)
    metrics = compute_metrics(table, cfg)
    if table["label"] is None:
        notes(f"{frames.ref} has no test labels: scores are written, but AUC and EER need labels")
    dataset = frames.manifest.config.get("dataset", "")
    summary = {
        "dataset": dataset,
        "frames_scored": int(len(table["video"])),
        "has_labels": table["label"] is not None,
        "seconds": round(seconds, 1),
        "frames_per_s": round(len(table["video"]) / max(seconds, 1e-9), 1),
        **runtime(device),
        "smooth": cfg.smooth,
        "psnr_window": cfg.psnr_window,
        "psnr_pool": cfg.psnr_pool,
        "alpha": cfg.alpha,
        "fusion": cfg.fusion,
        "score_detector": DETECTOR_SCORE,
        "flip": cfg.flip,
        "reverse": "reversed" in views,
        "cell_levels": levels is not None,
        "metrics": metrics,
        "references": REFERENCES.get(dataset, {}),
    }
    with store.draft("eval", name) as draft:
        write_scores(table, draft.path / "scores.csv")
        (draft.path / "metrics.json").write_text(json.dumps(metrics, indent=2))
        if cfg.plots:
            from vgisgan.plots import write_plots

            preview = _pseudo_preview(store, det)
            panels = top_frames(table, cache) if table["cells"] is not None else []
            write_plots(table, available_scores(table), draft.path / "plots", preview, f"{name}: {frames.ref}", panels)
        art = draft.publish(config, inputs, summary, key)
    return StageResult(art, reused=False)


def top_frames(table: dict, cache: FrameCache) -> list[dict]:
    """Each test video's frame with the highest detector score, and its cell map, for the plots.

    The frames are chosen by score alone; the label is only written in the panel's title.
    """
    panels = []
    for i, info in enumerate(cache.videos("test")):
        rows = np.flatnonzero(table["video"] == info.name)
        if len(rows) == 0:
            continue
        top = rows[np.argmax(table["score_detector"][rows])]
        frame = int(table["frame"][top])
        panels.append(
            {
                "video": info.name,
                "frame": frame,
                "image": np.asarray(cache.clip("test", i, frame, 1)[0]),  # (H, W, C)
                "cells": table["cells"][top],  # (h, w)
                "p_abnormal": float(1 / (1 + np.exp(-table["score_detector"][top]))),
                "label": None if table["label"] is None else int(table["label"][top]),
            }
        )
    return panels


def _pseudo_preview(store: Store, det: Artifact | None):
    if det is None:
        return None
    ref = next((i.ref for i in det.manifest.inputs if i.role == "pseudo"), None)
    try:
        return store.resolve(ref, "pseudo").file("preview.png") if ref else None
    except VgisganError:
        return None
