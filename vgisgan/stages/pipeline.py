"""`vgisgan run`: prepare -> train-gan -> generate -> train-detector -> evaluate with one config.

The detector learns the method's pseudo-anomalies together with those of the `mix` methods (by default
skip-frame, patch and local-skip, which cost no training): on UCSD Ped2 seed 0 skip-frame and patch lifted the
detector from 77 to 87 AUC over the GAN's set alone, and local-skip (since 0.11.0) raised the combined score
over those two on three fresh seeds by 0.69 to 0.78 (docs/results-history.md). A preset gives every stage's settings;
a TOML file can override any of them per stage ([prepare], [train_gan], [generate], [train_detector],
[evaluate]). Each stage reuses an existing artifact made from the same config and inputs, so re-running after
an interruption only redoes what is missing.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import torch

from vgisgan.config import (
    DEFAULT_MIX,
    DetectorConfig,
    EvaluateConfig,
    GenerateConfig,
    PrepareConfig,
    TrainGanConfig,
)
from vgisgan.errors import VgisganError
from vgisgan.progress import Notes, Progress, no_notes, silent
from vgisgan.stages.common import StageResult
from vgisgan.store import Store, check_name

STAGES = ("prepare", "train_gan", "generate", "train_detector", "evaluate")
PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    # Seconds on a CPU: for tests and smoke checks, not for results.
    "tiny": {
        "prepare": {"size": (32, 32), "synthetic": {"size": 32, "train_videos": 3, "test_videos": 2, "length": 40}},
        "train_gan": {
            "iters": 8,
            "batch_size": 4,
            "width": 4,
            "d_width": 4,
            "log_every": 4,
            "sample_every": 8,
            "checkpoint_every": 8,
        },
        "generate": {"n": 48, "batch_size": 16, "iters": 4, "train_batch": 4, "recon_steps": 2},
        "train_detector": {"epochs": 2, "width": 4, "batch_size": 16, "head": "regions"},  # the cpu preset's head
        "evaluate": {"batch_size": 32},
    },
    # A 2-core CPU: about 3 minutes on the synthetic set, under an hour on UCSD Ped2 (docs/RESULTS.md).
    "cpu": {
        "prepare": {"size": (128, 128)},
        # The normal generator at 6e-4 (the papers: 2e-4), falling linearly to 0 over the last 20% of the
        # iterations: at 3,000 iterations it is far from converged, and a higher rate predicted held-out
        # training videos better (docs/results-history.md, vgisgan 0.5.0); the decay settles the weights it stops
        # with (0.6.0). 1.2e-3 and 2.4e-3 predicted seed 0's held-out videos better, but each left one Ped2
        # seed of three with a poor psnr AUC; 6e-4 ended two held-out seeds 0.12 dB apart where 1.2e-3 ended
        # them 4.43 dB apart, and its three Ped2 seeds' psnr AUCs lie within 0.70 points (0.7.0).
        # The pseudo branch keeps 2e-4, so its pseudo-anomalies, and the detector that learns them, are as before.
        # The normal generator predicts a correction to the last past frame (0.9.0): at 3,000 iterations the
        # whole-frame U-Net predicted Ped2's training frames worse than copying the last frame did.
        # 3,600 iterations rather than 3,000 (0.22.0): on three seeds paired on one machine the psnr AUC rose by
        # 0.38 to 0.44 points and the combined score by 0.19 on average; the whole run took 22 to 24 minutes there,
        # and the slower CPU of the 3,000-iteration runs should take 38 to 54 (docs/RESULTS.md, "3,600 GAN iterations").
        "train_gan": {
            "iters": 3600,
            "residual": True,
            "batch_size": 4,
            "width": 16,
            "d_width": 16,
            "lr_g": 6e-4,
            "lr_decay": 0.2,
            "lr_pseudo": 2e-4,
            "log_every": 25,
            "sample_every": 500,
            "checkpoint_every": 250,
        },
        # The trained methods (convae-negloss, dcgan, ognet) at 500 iterations of 8 frames: ognet's generate
        # then took 6 minutes on Ped2 at 128x128 (the defaults, 1,000 of 16, about 25), so its run fits the hour.
        # Subtler mixed pseudo-anomalies than the papers' (skip 3, patches of 0.3): with those, every detector
        # separated its held-out pseudo-anomalies and probe perfectly after one epoch, and barely reacted to
        # Ped2's slow cyclists; the probe then follows the subtler stride (docs/results-history.md, vgisgan 0.4.0).
        "generate": {"n": 1000, "batch_size": 64, "iters": 500, "train_batch": 8, "skip": 2, "patch_frac": 0.15},
        # Three detectors averaged: one detector's test AUC moved by up to 4.5 points between runs
        # (docs/results-history.md).
        # Their rate falls to 0 over the last 2 of the 4 epochs, and a tie of the probe goes to the later epoch:
        # at a constant 1e-3 the kept epoch could be caught mid-jump (seed 0: held-out accuracy 0.62, the epoch
        # before 0.98; the same seed's detector scored 91.04 test AUC with the decay instead of 81.24), and with
        # the decay alone the first epoch at probe AUC 1.0 could still be such a one (docs/results-history.md, 0.8.0).
        # Such epochs are no longer kept where another reaches min_val_acc (DetectorConfig, 0.10.0).
        # Each region of the frame is classified on its own and the frame scored by its most abnormal region
        # (`regions`, 0.12.0), so one abnormal object in a crowd is not pooled with the walkers around it: it
        # lifted the combined score on both of two fresh Ped2 seeds, +0.55 over four detector runs
        # (docs/results-history.md).
        "train_detector": {
            "epochs": 4,
            "width": 12,
            "batch_size": 32,
            "members": 3,
            "probe_skip": 2,
            "lr_decay": 0.5,
            "head": "regions",
        },
        "evaluate": {"batch_size": 64},
    },
    # The published Future Frame Prediction settings (256x256, width 64), for a GPU.
    "paper": {
        "prepare": {"size": (256, 256), "synthetic": {"size": 256}},
        "train_gan": {
            "iters": 80000,
            "batch_size": 4,
            "width": 64,
            "d_width": 64,
            "log_every": 100,
            "sample_every": 2000,
            "checkpoint_every": 2000,
            "amp": True,
        },
        "generate": {"n": 5000, "batch_size": 64, "skip": 2, "patch_frac": 0.15},
        "train_detector": {
            "epochs": 20,
            "width": 32,
            "batch_size": 64,
            "members": 3,
            "probe_skip": 2,
            "head": "regions",
        },
        "evaluate": {"batch_size": 64},
    },
}
# Changes to a preset for the synthetic set, whose frames are small (64x64) and few.
SYNTHETIC_PRESETS: dict[str, dict[str, dict[str, Any]]] = {
    "cpu": {
        "train_gan": {"iters": 300, "batch_size": 8, "sample_every": 100, "checkpoint_every": 100},
        "generate": {"n": 600},
    },
}


def merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in override.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def stage_settings(preset: str, overrides: dict[str, dict], dataset: str) -> dict[str, dict]:
    if preset not in PRESETS:
        raise VgisganError(f"--preset {preset!r} is not one of {', '.join(PRESETS)}")
    unknown = set(overrides) - set(STAGES)
    if unknown:
        raise VgisganError(f"unknown config section(s) {', '.join(sorted(unknown))}: sections are {', '.join(STAGES)}")
    settings = PRESETS[preset]
    if dataset == "synthetic":
        settings = merge(settings, SYNTHETIC_PRESETS.get(preset, {}))
        settings["prepare"] = {k: v for k, v in settings["prepare"].items() if k != "size"}  # the generator's size
    return merge(settings, overrides)


def run(
    dataset: str,
    store: Store,
    preset: str = "cpu",
    method: str = "ffp-pseudo",
    mix: tuple[str, ...] = DEFAULT_MIX,
    seed: int | None = None,
    source: str | None = None,
    frames_ref: str | None = None,
    name: str | None = None,
    overrides: dict[str, dict] | None = None,
    data_dirs: list[Path] | None = None,
    device: torch.device = torch.device("cpu"),
    resume: bool = False,
    force: bool = False,
    progress: Progress = silent,
    notes: Notes = no_notes,
) -> dict[str, StageResult]:
    from vgisgan.stages import evaluate, generate, prepare, train_detector, train_gan

    s = stage_settings(preset, overrides or {}, dataset)
    s["generate"] = {**s["generate"], "method": method}
    if seed is not None:  # one seed for every random choice of the run
        for stage in ("train_gan", "generate", "train_detector"):
            s[stage] = {**s[stage], "seed": seed}
    try:  # validate every stage's settings before any heavy work
        cfgs = (
            PrepareConfig.model_validate({**s["prepare"], "dataset": dataset, "source": source}),
            TrainGanConfig.model_validate(s["train_gan"]),
            GenerateConfig.model_validate(s["generate"]),
            *[GenerateConfig.model_validate({**s["generate"], "method": m}) for m in mix],
            DetectorConfig.model_validate(s["train_detector"]),
            EvaluateConfig.model_validate(s["evaluate"]),
        )
    except Exception as e:  # pydantic's ValidationError, reported as one line
        raise VgisganError(f"invalid settings for preset {preset}: {e}".splitlines()[0]) from e
    if name is not None:  # before prepare and train-gan, not after them
        check_name(name)
    c_prep, c_gan, c_gen, *c_mix, c_det, c_eval = cfgs
    out: dict[str, StageResult] = {}
    if frames_ref is not None:  # a cache made earlier, perhaps on another machine: [prepare] does not apply
        out["prepare"] = StageResult(store.resolve(frames_ref, "frames"), reused=True)
    else:
        out["prepare"] = prepare.run(c_prep, store, data_dirs=data_dirs, force=force, progress=progress, notes=notes)
    frames = out["prepare"].artifact.ref
    # The GAN is trained for every method: its normal branch gives the psnr score.
    out["train_gan"] = train_gan.run(
        c_gan, store, frames_ref=frames, device=device, resume=resume, force=force, progress=progress, notes=notes
    )
    gan_ref = out["train_gan"].artifact.ref
    out["generate"] = generate.run(
        c_gen, store, gan_ref=gan_ref, frames_ref=frames, device=device, force=force, progress=progress, notes=notes
    )
    t_past = out["generate"].artifact.manifest.summary["t_past"]
    mixed = [
        generate.run(
            c.model_copy(update={"t_past": t_past}),
            store,
            gan_ref=gan_ref,
            frames_ref=frames,
            device=device,
            force=force,
            progress=progress,
            notes=notes,
        )
        for c in c_mix
        if c.method != method
    ]
    out["train_detector"] = train_detector.run(
        c_det,
        store,
        pseudo_ref=out["generate"].artifact.ref,
        more_pseudo=[r.artifact.ref for r in mixed],
        gan_ref=gan_ref,
        resume=resume,
        frames_ref=frames,
        name=name,
        device=device,
        force=force,
        progress=progress,
        notes=notes,
    )
    out["evaluate"] = evaluate.run(
        c_eval,
        store,
        gan_ref=gan_ref,
        detector_ref=out["train_detector"].artifact.ref,
        frames_ref=frames,
        name=name,
        device=device,
        force=force,
        progress=progress,
        notes=notes,
    )
    return out
