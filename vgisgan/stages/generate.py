"""Stage `generate`: training clips -> a `pseudo` artifact of pseudo-anomalies (and normal predictions).

Payload: pseudo.npy (N, H, W, C) uint8, normal.npy (same, methods with a normal predictor), sources.csv
(index, video, video_index, frame, stride: the candidate's position, its past being the T frames before it
at that stride, frames frame-T*stride, ..., frame-stride; 1 for every method but fast-forward), and
preview.png (rows: last past frame, real next frame after it, normal prediction if any, pseudo-anomaly).
"""

from __future__ import annotations

import csv
import time
from typing import Callable

import numpy as np
import torch
from safetensors.torch import save_file

from vgisgan import methods
from vgisgan import trained_methods as trained
from vgisgan.config import GenerateConfig
from vgisgan.data.cache import FrameCache
from vgisgan.data.clips import ClipSampler
from vgisgan.device import runtime
from vgisgan.errors import VgisganError
from vgisgan.images import grid, save_png
from vgisgan.progress import Notes, Progress, no_notes, silent
from vgisgan.stages.common import StageResult, run_hash, try_reuse
from vgisgan.store import Artifact, Store

NEEDS_GAN = ("ffp-pseudo",)  # the others need only the frames (convae-negloss and dcgan train here)


def input_frames(store: Store, frames_ref: str | None, made_by: Artifact | None) -> Artifact:
    """--frames if given, else the frame cache `made_by` was trained on, else the latest frame cache."""
    if frames_ref is None and made_by is not None:
        ref = next((i.ref for i in made_by.manifest.inputs if i.role == "frames"), None)
        if ref is not None:
            return store.resolve(ref, "frames")
    return store.resolve(frames_ref, "frames")


def build_maker(
    cfg: GenerateConfig, sampler: ClipSampler, gan: Artifact | None, device: torch.device, progress: Progress
) -> tuple[Callable[[int], methods.PseudoBatch], dict, list[dict]]:
    """The method's batch maker, the networks it trained (to publish) and their training log."""
    t = cfg.t_past
    if cfg.method == "ffp-pseudo":
        from vgisgan.gan import load_generators

        assert gan is not None
        _, g_normal, g_pseudo = load_generators(gan.path, gan.manifest.config, device)
        return (lambda b: methods.ffp_pseudo(sampler, g_normal, g_pseudo, device, b, t)), {}, []
    if cfg.method == "skip-frame":
        return (lambda b: methods.skip_frame(sampler, b, t)), {}, []
    if cfg.method == "local-skip":
        return (lambda b: methods.local_skip(sampler, b, t, cfg.patch_frac)), {}, []
    if cfg.method == "fast-forward":
        return (lambda b: methods.fast_forward(sampler, b, t, cfg.skip)), {}, []
    if cfg.method == "patch":
        rng = np.random.default_rng(cfg.seed)
        return (lambda b: methods.patch(sampler, b, t, cfg.patch_frac, rng)), {}, []
    torch.manual_seed(cfg.seed)
    channels = sampler.cache.channels
    if cfg.method == "convae-negloss":
        normal, abnormal, log = trained.train_convae(sampler, cfg, channels, device, progress)
        maker = lambda b: trained.convae_batch(sampler, normal, abnormal, cfg, b, device)  # noqa: E731
        return maker, {"convae_normal": normal, "convae_abnormal": abnormal}, log
    frames = ClipSampler(sampler.cache, "train", 1, cfg.seed + 1)
    if cfg.method == "ognet":
        nets, log = trained.train_ognet(frames, cfg, channels, device, progress)
        return (lambda b: trained.ognet_batch(sampler, nets, cfg, b, device)), nets, log
    g, log = trained.train_dcgan(frames, cfg, channels, sampler.cache.size[0], device, progress)
    return (lambda b: trained.dcgan_batch(sampler, g, cfg, b, device)), {"dcgan_generator": g}, log


def write_log(path, rows: list[dict]) -> None:
    fields = list(dict.fromkeys(k for r in rows for k in r))
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fields)
        w.writeheader()
        w.writerows(rows)


def _stats(pseudo: np.ndarray, real: np.ndarray) -> dict:
    diff = pseudo.astype(np.float32) - real.astype(np.float32)
    mse = (diff / 255) ** 2
    psnr = 10 * np.log10(1 / np.maximum(mse.reshape(len(mse), -1).mean(1), 1e-10))
    return {
        "mean_abs_diff_to_real": round(float(np.abs(diff).mean()), 3),
        "psnr_to_real_db": round(float(psnr.mean()), 3),
    }


def run(
    cfg: GenerateConfig,
    store: Store,
    gan_ref: str | None = None,
    frames_ref: str | None = None,
    name: str | None = None,
    device: torch.device = torch.device("cpu"),
    force: bool = False,
    progress: Progress = silent,
    notes: Notes = no_notes,
) -> StageResult:
    gan = store.resolve(gan_ref, "gan") if cfg.method in NEEDS_GAN else None
    frames = input_frames(store, frames_ref, gan)
    notes(f"frames: {frames.ref}" + (f", gan: {gan.ref}" if gan else ""))
    cache = FrameCache(frames.path)
    if gan is not None:
        t_gan = gan.manifest.config["model"]["t_past"]
        if cfg.t_past not in (None, t_gan):
            raise VgisganError(f"--t-past {cfg.t_past} differs from the T={t_gan} that {gan.ref} was trained with")
        if tuple(gan.manifest.config["model"]["size"]) != cache.size:
            raise VgisganError(
                f"{gan.ref} was trained on {gan.manifest.config['model']['size']} frames but "
                f"{frames.ref} holds {list(cache.size)}: pass the matching --frames"
            )
        cfg = cfg.model_copy(update={"t_past": t_gan})
    elif cfg.method == "convae-negloss":
        cfg = cfg.model_copy(update={"t_past": cfg.t_length - 1})
    elif cfg.t_past is None:
        cfg = cfg.model_copy(update={"t_past": 4})
    t = cfg.t_past
    assert t is not None
    clip_len = {"skip-frame": t + cfg.skip, "local-skip": t + cfg.skip, "fast-forward": t * cfg.skip + 1}.get(
        cfg.method, t + 1
    )
    if cfg.method == "dcgan":
        trained.check_dcgan_size(cache.size)
    if len(cache.clip_starts("train", clip_len)) == 0:
        raise VgisganError(f"{frames.ref}: no training video has the {clip_len} frames a {cfg.method} clip needs")
    inputs = [store.input_ref("frames", frames)] + ([store.input_ref("gan", gan)] if gan else [])
    config = cfg.model_dump(mode="json")
    name = name or (gan.manifest.name if gan else f"{frames.manifest.name}-{cfg.method}")
    key = run_hash("pseudo", config, inputs)
    if reused := try_reuse(store, "pseudo", name, key, force, notes):
        return reused

    t0 = time.perf_counter()
    sampler = ClipSampler(cache, "train", clip_len, cfg.seed)
    make, weights, train_log = build_maker(cfg, sampler, gan, device, progress)
    batches = []
    for start in range(0, cfg.n, cfg.batch_size):
        b = min(cfg.batch_size, cfg.n - start)
        batches.append(make(b))
        progress("generate", start + b, cfg.n)
    rows = np.concatenate([b.rows for b in batches])
    strides = np.concatenate([np.full(len(b.rows), b.stride, np.int64) for b in batches])
    pseudo = np.concatenate([b.pseudo for b in batches])
    normal = np.concatenate([b.normal for b in batches]) if batches[0].normal is not None else None
    real = methods.real_targets(cache, rows, strides)  # what a normal clip shows after each past

    with store.draft("pseudo", name) as draft:
        for key_name, module in weights.items():  # methods trained here publish their generator too
            save_file(
                {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()},
                str(draft.path / f"{key_name}.safetensors"),
            )
        if train_log:
            write_log(draft.path / "train_log.csv", train_log)
        np.save(draft.path / "pseudo.npy", pseudo)
        if normal is not None:
            np.save(draft.path / "normal.npy", normal)
        videos = cache.videos("train")
        with open(draft.path / "sources.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["index", "video", "video_index", "frame", "stride"])
            w.writerows([i, videos[v].name, v, fr, s] for i, ((v, fr), s) in enumerate(zip(rows.tolist(), strides)))
        k = min(8, len(rows))
        last = np.stack([cache.clip("train", int(v), int(fr) - int(s), 1)[0] for (v, fr), s in zip(rows[:k], strides)])
        preview_rows = [last, real[:k]] + ([normal[:k]] if normal is not None else []) + [pseudo[:k]]
        save_png(draft.path / "preview.png", grid(preview_rows))
        summary = {
            "n": int(len(rows)),
            "method": cfg.method,
            "t_past": t,
            "stride": int(strides.max()),
            "has_normal": normal is not None,
            "seconds": round(time.perf_counter() - t0, 1),
            **runtime(device),
            "pseudo_vs_real": _stats(pseudo, real),
        }
        if normal is not None:
            summary["normal_vs_real"] = _stats(normal, real)
        art = draft.publish(config, inputs, summary, key)
    return StageResult(art, reused=False)
