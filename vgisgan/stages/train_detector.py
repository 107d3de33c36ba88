"""Stage `train-detector`: pseudo-anomalies + real normal frames -> a `detector` artifact.

The examples (vgisgan/data/examples.py): each pseudo-anomaly against the real frame it replaces, and
optionally the normal generator's prediction, from whole training videos; others are held out. Each epoch
is scored on the held-out videos twice: on the method's own pseudo-anomalies (val_auc) and on the
method-independent probe of vgisgan/probe.py (probe_auc); `select_by` says which one picks the kept epoch.
Once the epochs are kept, a regions detector of frames also gets each cell's level on the held-out videos
(vgisgan/levels.py), which evaluate scores its cells against.
"""

from __future__ import annotations

import csv
import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from sklearn.metrics import roc_auc_score

from vgisgan.checkpoint import load_state, save_state
from vgisgan.config import DetectorConfig
from vgisgan.data.cache import FrameCache
from vgisgan.data.examples import Examples, add_gan_predictions, load_examples, predictor_gan, split_examples
from vgisgan.device import runtime
from vgisgan.errors import VgisganError
from vgisgan.levels import has_levels, held_out_videos, measure_levels, save_levels
from vgisgan.models.detector import build_detector, build_member
from vgisgan.progress import Notes, Progress, no_notes, silent
from vgisgan.stages.common import StageResult, run_hash, try_reuse
from vgisgan.stages.generate import input_frames
from vgisgan.store import Store
from vgisgan.training import CsvLog, StopRequest, decayed_lr

# On Ped2 (docs/RESULTS.md, "Each method alone with 0.21.0") every detector whose members' mean probe AUC was 0.77
# or more lifted the combined score above psnr, and every one at 0.74 or less pulled it under: a weak detector
# drags the fusion down. The probe reads only training videos, so it can warn before any test label is seen.
WEAK_PROBE_AUC = 0.75


@torch.no_grad()
def predict(model: torch.nn.Module, ex: Examples, t_past: int, batch: int, device: torch.device) -> np.ndarray:
    model.eval()
    out = []
    for i in range(0, len(ex.labels), batch):
        inputs, _ = ex.batch(np.arange(i, min(i + batch, len(ex.labels))), t_past)
        out.append(torch.sigmoid(model(*(x.to(device) for x in inputs))).cpu().numpy())
    return np.concatenate(out) if out else np.zeros(0)


def validate(
    model: torch.nn.Module, val: Examples, probe: Examples | None, t_past: int, batch: int, device: torch.device
) -> dict:
    p = predict(model, val, t_past, batch, device)
    y = val.labels
    out = {
        "val_auc": float(roc_auc_score(y, p)) if 0 < y.sum() < len(y) else float("nan"),
        "val_acc": float(((p > 0.5) == (y > 0.5)).mean()),
    }
    if probe is not None:
        out["probe_auc"] = float(roc_auc_score(probe.labels, predict(model, probe, t_past, batch, device)))
    return out


class Trainer:
    """The detector, its optimizer and shuffling generator, the best epoch so far, and their checkpoint."""

    def __init__(self, cfg: DetectorConfig, model: torch.nn.Module, t_past: int, device: torch.device):
        self.cfg, self.t_past, self.device = cfg, t_past, device
        self.model = model.to(device)
        self.opt = torch.optim.Adam(self.model.parameters(), lr=cfg.lr)
        self.gen = torch.Generator().manual_seed(cfg.seed)
        self.epoch = 0
        self.best: dict = {"epoch": 0}
        self.best_weights: dict | None = None

    def save(self, path) -> None:
        save_state(
            path,
            {
                "model": self.model.state_dict(),
                "optim": self.opt.state_dict(),
                "rng": self.gen.get_state(),
                "epoch": self.epoch,
                "best": self.best,
                "best_weights": self.best_weights,
            },
        )

    def load(self, path) -> None:
        state = load_state(path)
        self.model.load_state_dict(state["model"])
        self.opt.load_state_dict(state["optim"])
        self.gen.set_state(state["rng"])
        self.epoch, self.best, self.best_weights = int(state["epoch"]), state["best"], state["best_weights"]

    def train_epoch(self, train: Examples, progress: Progress) -> float:
        """One pass over the shuffled training examples; returns the mean loss."""
        cfg, model = self.cfg, self.model
        model.train()
        pos_weight = torch.tensor((1 - train.labels).sum() / max(train.labels.sum(), 1), device=self.device)
        order = torch.randperm(len(train.labels), generator=self.gen).numpy()
        steps = (len(order) + cfg.batch_size - 1) // cfg.batch_size
        total = 0.0
        for s in range(steps):
            for group in self.opt.param_groups:
                group["lr"] = decayed_lr(cfg.lr, self.epoch * steps + s, cfg.epochs * steps, cfg.lr_decay)
            inputs, y = train.batch(order[s * cfg.batch_size : (s + 1) * cfg.batch_size], self.t_past)
            logits = model(*(x.to(self.device) for x in inputs))
            loss = F.binary_cross_entropy_with_logits(logits, y.to(self.device), pos_weight=pos_weight)
            self.opt.zero_grad(set_to_none=True)
            loss.backward()
            self.opt.step()
            total += loss.item()
            progress("detector", self.epoch * steps + s + 1, cfg.epochs * steps)
        self.epoch += 1
        return total / steps

    def keep_if_best(self, metrics: dict) -> None:
        """Keep this epoch's weights if it ranks at least as high as every earlier epoch (the first epoch
        always): a sound epoch (val_acc >= min_val_acc) before an unsound one, then the selection AUC. A tie
        goes to the other held-out AUC, then to the later epoch: the probe often reads 1.0 from an early epoch
        on, and the later epochs are the ones a decaying rate has settled."""
        key = "probe_auc" if self.cfg.select_by == "probe" and "probe_auc" in metrics else "val_auc"
        rank = selection_rank(metrics, key, self.cfg.min_val_acc)
        if self.best_weights is None or rank >= selection_rank(self.best, key, self.cfg.min_val_acc):
            self.best = {"epoch": self.epoch, "selected_by": key, **metrics}
            self.best_weights = {k: v.detach().cpu().clone() for k, v in self.model.state_dict().items()}


def selection_rank(metrics: dict, key: str, min_acc: float) -> tuple[bool, float, float]:
    """(sound, the selection AUC, the other held-out AUC), NaN (a one-class validation set) ranking lowest.
    An epoch with high AUCs but a held-out accuracy near chance has its logits mid-jump (on Ped2: val_acc
    0.515 between epochs at 0.986 and 0.988, val_auc 0.999997); ranking by AUC alone kept such epochs."""
    other = "val_auc" if key == "probe_auc" else "probe_auc"
    main, second = float(metrics[key]), float(metrics.get(other, 0.0))
    sound = float(metrics["val_acc"]) >= min_acc
    return (sound, -1.0 if math.isnan(main) else main, -1.0 if math.isnan(second) else second)


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
    more_pseudo: list[str] | None = None,
    gan_ref: str | None = None,
) -> StageResult:
    """Train on `pseudo_ref` (it names the detector) and on every set of `more_pseudo` together; `gan_ref` is
    the normal generator a frames+error detector reads (default: the one the pseudo-anomalies name)."""
    pseudo_art = store.resolve(pseudo_ref, "pseudo")
    arts = [pseudo_art] + [store.resolve(r, "pseudo") for r in more_pseudo or []]
    frames = input_frames(store, frames_ref, pseudo_art)
    notes(f"pseudo: {', '.join(a.ref for a in arts)}, frames: {frames.ref}")
    cache = FrameCache(frames.path)
    t_past = int(pseudo_art.manifest.summary["t_past"])
    inputs = [store.input_ref("pseudo", a) for a in arts] + [store.input_ref("frames", frames)]
    config = {**cfg.model_dump(mode="json"), "t_past": t_past, "channels": cache.channels, "size": list(cache.size)}
    # OGNet's detector is its own discriminator, fine-tuned here (phase two of the paper).
    ognet_d = pseudo_art.path / "ognet_d.safetensors"
    if ognet_d.exists():
        if cfg.inputs == "frames+error":
            raise VgisganError(f"{pseudo_art.ref} is OGNet's: its detector judges the frame alone (--inputs frames)")
        config |= {"arch": "ognet", "width": pseudo_art.manifest.config["width"]}
    gan = predictor_gan(store, gan_ref, arts, frames, t_past) if cfg.inputs == "frames+error" else None
    if gan is not None:
        inputs.append(store.input_ref("gan", gan))
    name = name or pseudo_art.manifest.name
    key = run_hash("detector", config, inputs)
    if reused := try_reuse(store, "detector", name, key, force, notes):
        return reused

    examples = load_examples(arts, frames, cache, cfg.normal_predictions)

    def held_out(seed: int) -> tuple[Examples, Examples, Examples | None]:
        data = split_examples(examples, cache, cfg.model_copy(update={"seed": seed}), t_past, pseudo_art.ref, notes)
        if gan is not None:
            add_gan_predictions(list(data), gan, t_past, cfg.batch_size, device, progress)
        return data

    first = held_out(cfg.seed)  # member 0's split, shared by all members unless member_splits
    work = store.work_dir("detector", name, key)
    t0 = time.perf_counter()
    trainers = []
    for i in range(cfg.members):  # initial weights and shuffling differ; with member_splits, the held-out videos too
        member = Member(
            cfg=cfg.model_copy(update={"seed": cfg.seed + i}),
            index=i,
            work=work / f"member{i}",
            config=config,
            ognet_d=ognet_d,
            data=held_out(cfg.seed + i) if cfg.member_splits and i > 0 else first,
            t_past=t_past,
            device=device,
        )
        trainers.append(member.train(resume, progress, notes))

    with store.draft("detector", name) as draft:
        weights = [t.best_weights for t in trainers]
        if cfg.members > 1:  # DetectorEnsemble's keys
            weights = [{f"members.{i}.{k}": v for k, v in w.items()} for i, w in enumerate(weights)]
        save_file({k: v.contiguous() for w in weights for k, v in w.items()}, str(draft.path / "detector.safetensors"))
        if has_levels(config):
            save_levels(held_out_levels(trainers, config, cfg, cache, device), draft.path)
        merge_logs([work / f"member{i}" / "log.csv" for i in range(cfg.members)], draft.path / "log.csv")
        probes = [t.best["probe_auc"] for t in trainers if "probe_auc" in t.best]
        summary = {
            "best_epochs": [t.best["epoch"] for t in trainers],
            "selected_by": trainers[0].best["selected_by"],
            "val_auc": round(float(np.mean([t.best["val_auc"] for t in trainers])), 4),
            "probe_auc": round(float(np.mean(probes)), 4) if probes else None,
            "members": cfg.members,
            "cell_levels": has_levels(config),
            "train_examples": int(len(first[0].labels)),  # member 0's
            "val_examples": int(len(first[1].labels)),
            "seconds": round(time.perf_counter() - t0, 1),
            **runtime(device),
        }
        art = draft.publish(config, inputs, summary, key)
    if summary["probe_auc"] is not None and summary["probe_auc"] < WEAK_PROBE_AUC:
        notes(
            f"{art.ref} has a low probe AUC ({summary['probe_auc']} < {WEAK_PROBE_AUC}): on Ped2 every such "
            "detector lowered the combined score below psnr's, so read the psnr and detector scores apart"
        )
    return StageResult(art, reused=False)


def held_out_levels(
    trainers: list[Trainer], config: dict, cfg: DetectorConfig, cache: FrameCache, device: torch.device
) -> dict[str, torch.Tensor]:
    """Each member's cell levels, at its kept epoch, on the training videos it held out."""
    members = []
    for trainer in trainers:
        model = build_member(config)
        model.load_state_dict(trainer.best_weights)
        members.append(model.to(device).eval())
    return measure_levels(members, held_out_videos(config, cache), cache, int(config["t_past"]), cfg.batch_size, device)


@dataclass
class Member:
    """What one member of the detector needs: `train()` trains it, or resumes it from `work`."""

    cfg: DetectorConfig  # carrying this member's seed
    index: int
    work: Path  # its checkpoint and log
    config: dict  # the artifact's config: the architecture
    ognet_d: Path  # OGNet's discriminator, the starting point where it exists
    data: tuple[Examples, Examples, Examples | None]  # training, validation, probe
    t_past: int
    device: torch.device

    def train(self, resume: bool, progress: Progress, notes: Notes) -> Trainer:
        """The returned Trainer holds the kept epoch's weights."""
        cfg, (train, val, probe) = self.cfg, self.data
        torch.manual_seed(cfg.seed)
        model = build_member(self.config)
        if self.ognet_d.exists():
            from safetensors.torch import load_file

            model.discriminator.load_state_dict(load_file(str(self.ognet_d), device="cpu"))
        trainer = Trainer(cfg, model, self.t_past, self.device)
        ckpt = self.work / "checkpoint.safetensors"
        if resume and ckpt.exists():
            trainer.load(ckpt)
            notes(f"member {self.index}: resuming after epoch {trainer.epoch}")
        log = CsvLog(self.work / "log.csv", trainer.epoch, step="epoch")
        label = "detector" if cfg.members == 1 else f"detector {self.index + 1}/{cfg.members}"
        with StopRequest() as stop:
            while trainer.epoch < cfg.epochs:
                loss = trainer.train_epoch(train, lambda _, done, total: progress(label, done, total))
                metrics = validate(trainer.model, val, probe, self.t_past, cfg.batch_size, self.device)
                log.append({"member": self.index, "epoch": trainer.epoch, "train_loss": loss, **metrics})
                trainer.keep_if_best(metrics)
                trainer.save(ckpt)
                if stop.requested:
                    notes(f"stopped after epoch {trainer.epoch} of member {self.index}; continue with --resume")
                    raise KeyboardInterrupt
        assert trainer.best_weights is not None
        return trainer


def merge_logs(paths, out) -> None:
    """The members' epoch logs, one after the other, as one CSV."""
    rows = []
    for p in paths:
        with open(p, newline="") as f:
            rows += list(csv.DictReader(f))
    with open(out, "w", newline="") as f:
        w = csv.DictWriter(f, list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def load_detector(art_path, config: dict, device: torch.device) -> torch.nn.Module:
    from safetensors.torch import load_file

    model = build_detector(config)
    model.load_state_dict(load_file(str(art_path / "detector.safetensors"), device="cpu"))
    return model.to(device).eval()
