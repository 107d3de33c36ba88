"""Stage `train-detector`: pseudo-anomalies + real normal frames -> a `detector` artifact.

Examples: for each pseudo-anomaly, its past T frames with (a) the pseudo-anomaly, label 1, (b) the real next
frame, label 0, and (c) optionally the normal generator's prediction, label 0, so that "looks generated" is
not a shortcut to "abnormal". Whole training videos are held out for validation: no test data is touched.
"""

from __future__ import annotations

import csv
import time

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from sklearn.metrics import roc_auc_score

from vgisgan.checkpoint import load_state, save_state
from vgisgan.config import DetectorConfig
from vgisgan.data.cache import FrameCache
from vgisgan.data.clips import to_tensor
from vgisgan.errors import VgisganError
from vgisgan.methods import pasts, real_targets
from vgisgan.models.detector import Detector
from vgisgan.progress import Notes, Progress, no_notes, silent
from vgisgan.stages.common import StageResult, run_hash, try_reuse
from vgisgan.stages.generate import input_frames
from vgisgan.store import Store
from vgisgan.training import CsvLog, StopRequest


class Examples:
    """Candidates (uint8), their labels, and the rows whose past frames they follow."""

    def __init__(self, cache: FrameCache, rows: np.ndarray, pseudo: np.ndarray, normal: np.ndarray | None):
        parts = [(pseudo, 1), (real_targets(cache, rows), 0)] + ([(normal, 0)] if normal is not None else [])
        self.candidates = np.concatenate([p for p, _ in parts])  # (M, H, W, C)
        self.labels = np.concatenate([np.full(len(p), y, np.float32) for p, y in parts])
        self.rows = np.concatenate([rows for _ in parts])
        self.cache = cache

    def subset(self, mask: np.ndarray) -> "Examples":
        out = object.__new__(Examples)
        out.candidates, out.labels, out.rows, out.cache = self.candidates[mask], self.labels[mask], self.rows[mask], self.cache
        return out

    def batch(self, idx: np.ndarray, t_past: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        return pasts(self.cache, self.rows[idx], t_past), to_tensor(self.candidates[idx]), torch.from_numpy(self.labels[idx])


def read_pseudo(path, cache: FrameCache) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    with open(path / "sources.csv", newline="") as f:
        rows = np.array([(int(r["video_index"]), int(r["frame"])) for r in csv.DictReader(f)], np.int64).reshape(-1, 2)
    pseudo = np.load(path / "pseudo.npy", allow_pickle=False)
    normal = np.load(path / "normal.npy", allow_pickle=False) if (path / "normal.npy").exists() else None
    if pseudo.shape[1:] != (*cache.size, cache.channels):
        raise VgisganError(f"{path}: pseudo-anomalies are {pseudo.shape[1:]} but the frame cache holds "
                           f"{(*cache.size, cache.channels)} frames: pass the matching --frames")
    return rows, pseudo, normal


def split_videos(n_videos: int, fraction: float, seed: int) -> np.ndarray:
    """Indices of the training videos held out for validation (at least one, never all)."""
    if n_videos < 2:
        raise VgisganError("validation needs at least 2 training videos (whole videos are held out)")
    k = min(max(1, round(n_videos * fraction)), n_videos - 1)
    return np.random.default_rng(seed).permutation(n_videos)[:k]


@torch.no_grad()
def predict(model: Detector, ex: Examples, t_past: int, batch: int, device: torch.device) -> np.ndarray:
    model.eval()
    out = []
    for i in range(0, len(ex.labels), batch):
        past, cand, _ = ex.batch(np.arange(i, min(i + batch, len(ex.labels))), t_past)
        out.append(torch.sigmoid(model(past.to(device), cand.to(device))).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def validate(model: Detector, val: Examples, t_past: int, batch: int, device: torch.device) -> dict:
    p = predict(model, val, t_past, batch, device)
    y = val.labels
    return {"val_auc": float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan"),
            "val_acc": float(((p > 0.5) == (y > 0.5)).mean())}


def run(
    cfg: DetectorConfig,
    store: Store,
    pseudo_ref: str | None = None,
    frames_ref: str | None = None,
    name: str | None = None,
    device: torch.device = torch.device("cpu"),
    resume: bool = False,
    force: bool = False,
    progress: Progress = silent,
    notes: Notes = no_notes,
) -> StageResult:
    pseudo_art = store.resolve(pseudo_ref, "pseudo")
    frames = input_frames(store, frames_ref, pseudo_art)
    notes(f"pseudo: {pseudo_art.ref}, frames: {frames.ref}")
    cache = FrameCache(frames.path)
    t_past = int(pseudo_art.manifest.summary["t_past"])
    rows, pseudo, normal = read_pseudo(pseudo_art.path, cache)
    if not cfg.normal_predictions:
        normal = None
    inputs = [store.input_ref("pseudo", pseudo_art), store.input_ref("frames", frames)]
    config = {**cfg.model_dump(mode="json"), "t_past": t_past, "channels": cache.channels, "size": list(cache.size)}
    name = name or pseudo_art.manifest.name
    key = run_hash("detector", config, inputs)
    if reused := try_reuse(store, "detector", name, key, force, notes):
        return reused

    examples = Examples(cache, rows, pseudo, normal)
    held_out = split_videos(len(cache.videos("train")), cfg.val_fraction, cfg.seed)
    is_val = np.isin(examples.rows[:, 0], held_out)
    train, val = examples.subset(~is_val), examples.subset(is_val)
    if len(train.labels) == 0 or len(val.labels) == 0:
        raise VgisganError(f"{pseudo_art.ref}: too few pseudo-anomalies to hold out validation videos; generate more")
    notes(f"{len(train.labels)} training and {len(val.labels)} validation examples "
          f"(validation videos: {', '.join(cache.videos('train')[i].name for i in sorted(held_out))})")

    torch.manual_seed(cfg.seed)
    model = Detector(cache.channels, t_past, cfg.width).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    gen = torch.Generator().manual_seed(cfg.seed)
    work = store.work_dir("detector", name, key)
    ckpt = work / "checkpoint.safetensors"
    start, best = 0, {"val_auc": -1.0, "epoch": 0, "weights": None}
    if resume and ckpt.exists():
        state = load_state(ckpt)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optim"])
        gen.set_state(state["rng"])
        start, best = int(state["epoch"]), {**state["best"], "weights": state["best_weights"]}
        notes(f"resuming after epoch {start}")
    log = CsvLog(work / "log.csv", start)
    pos_weight = torch.tensor((1 - train.labels).sum() / max(train.labels.sum(), 1), device=device)
    steps = (len(train.labels) + cfg.batch_size - 1) // cfg.batch_size
    t0 = time.perf_counter()
    with StopRequest() as stop:
        for epoch in range(start, cfg.epochs):
            model.train()
            order = torch.randperm(len(train.labels), generator=gen).numpy()
            total = 0.0
            for s in range(steps):
                past, cand, y = train.batch(order[s * cfg.batch_size : (s + 1) * cfg.batch_size], t_past)
                loss = F.binary_cross_entropy_with_logits(model(past.to(device), cand.to(device)), y.to(device),
                                                          pos_weight=pos_weight)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                total += loss.item()
                progress("detector", epoch * steps + s + 1, cfg.epochs * steps)
            metrics = validate(model, val, t_past, cfg.batch_size, device)
            log.append({"epoch": epoch + 1, "iter": epoch + 1, "train_loss": total / steps, **metrics})
            if metrics["val_auc"] > best["val_auc"] or best["weights"] is None:
                best = {"val_auc": metrics["val_auc"], "epoch": epoch + 1,
                        "weights": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}}
            save_state(ckpt, {"model": model.state_dict(), "optim": opt.state_dict(), "rng": gen.get_state(),
                              "epoch": epoch + 1, "best": {k: v for k, v in best.items() if k != "weights"},
                              "best_weights": best["weights"]})
            if stop.requested:
                notes(f"stopped after epoch {epoch + 1}; continue with --resume")
                raise KeyboardInterrupt

    with store.draft("detector", name) as draft:
        save_file({k: v.contiguous() for k, v in best["weights"].items()}, str(draft.path / "detector.safetensors"))
        (draft.path / "log.csv").write_bytes((work / "log.csv").read_bytes())
        summary = {"best_epoch": best["epoch"], "val_auc": round(best["val_auc"], 4),
                   "train_examples": int(len(train.labels)), "val_examples": int(len(val.labels)),
                   "seconds": round(time.perf_counter() - t0, 1), "device": str(device)}
        art = draft.publish(config, inputs, summary, key)
    return StageResult(art, reused=False)


def load_detector(art_path, config: dict, device: torch.device) -> Detector:
    from safetensors.torch import load_file

    model = Detector(config["channels"], config["t_past"], config["width"])
    model.load_state_dict(load_file(str(art_path / "detector.safetensors"), device="cpu"))
    return model.to(device).eval()
