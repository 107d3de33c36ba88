"""Stage `train-gan`: a frame cache -> a `gan` artifact (both generators and both discriminators)."""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from pydantic import ValidationError
from safetensors.torch import save_file

from vgisgan.checkpoint import load_state, save_state
from vgisgan.config import GanModelConfig, TrainGanConfig, describe_validation_error
from vgisgan.data.cache import FrameCache
from vgisgan.data.clips import ClipSampler, to_uint8
from vgisgan.device import runtime
from vgisgan.distributed import DistInfo, barrier, init_from_env, shutdown, wrap
from vgisgan.errors import VgisganError
from vgisgan.gan import GanNets, build_nets, build_optimizers, prediction_psnr, train_step
from vgisgan.images import grid, save_png
from vgisgan.models.flow import build_flow
from vgisgan.progress import Notes, Progress, no_notes, silent
from vgisgan.stages.common import StageResult, run_hash, try_reuse
from vgisgan.store import Artifact, Store
from vgisgan.training import CsvLog, StopRequest, decayed_lr


def check_clips(cache: FrameCache, t_past: int, where: str) -> None:
    short = [v.name for v in cache.videos("train") if v.length < t_past + 1]
    if short:
        raise VgisganError(
            f"{where}: training videos {', '.join(short[:5])} have fewer than T+1={t_past + 1} frames: "
            "lower --t-past or re-run prepare without them"
        )


VAL_CLIPS = 96  # held-out clips of --val-videos, the same for every seed (as in benchmarks/normal_lr.py)
VAL_SEED = 2


def split_validation(cache: FrameCache, val_videos: int, where: str) -> tuple[list[int], list[int]]:
    """(videos to train on, held-out videos), 0-based: the last `val_videos` training videos are held out."""
    n = len(cache.videos("train"))
    if val_videos >= n:
        raise VgisganError(
            f"{where} has {n} training videos: --val-videos {val_videos} would leave none to train on; "
            f"pass at most {n - 1}"
        )
    return list(range(n - val_videos)), list(range(n - val_videos, n))


def model_config(cache: FrameCache, cfg: TrainGanConfig) -> GanModelConfig:
    try:
        return GanModelConfig(
            channels=cache.channels,
            size=cache.size,
            t_past=cfg.t_past,
            width=cfg.width,
            depth=cfg.depth,
            d_width=cfg.d_width,
            pseudo_output=cfg.pseudo_output,
            max_shift=cfg.max_shift,
            warp_mask=cfg.warp_mask,
            residual=cfg.residual,
        )
    except ValidationError as e:
        raise VgisganError(describe_validation_error(e, None)) from e


def _sample_grid(clip: torch.Tensor, frames: tuple, path: Path) -> None:
    target, gen_n, gen_p = (to_uint8(f[:6]) for f in frames)
    last = to_uint8(clip[:6, -2])
    save_png(path, grid([last, target, gen_n, gen_p]))


def _save_checkpoint(path: Path, nets: GanNets, opts: dict, sampler: ClipSampler, done: int) -> None:
    state = {f"model.{k}": _raw(m).state_dict() for k, m in nets.trainable().items()}
    state |= {f"optim.{k}": o.state_dict() for k, o in opts.items()}
    state |= {"rng.torch": torch.get_rng_state(), "rng.sampler": sampler.generator.get_state(), "iter": done}
    save_state(path, state)


def _load_checkpoint(path: Path, nets: GanNets, opts: dict, sampler: ClipSampler) -> int:
    state = load_state(path)
    for k, m in nets.trainable().items():
        _raw(m).load_state_dict(state[f"model.{k}"])
    for k, o in opts.items():
        o.load_state_dict(state[f"optim.{k}"])
    torch.set_rng_state(state["rng.torch"])
    sampler.generator.set_state(state["rng.sampler"])
    return int(state["iter"])


def _raw(m: torch.nn.Module) -> torch.nn.Module:
    return getattr(m, "module", m)


def _publish(
    store: Store, name: str, key: str, nets: GanNets, work: Path, config: dict, inputs: list, summary: dict
) -> Artifact:
    with store.draft("gan", name) as draft:
        for k, m in nets.trainable().items():
            weights = {n: t.detach().cpu().contiguous() for n, t in _raw(m).state_dict().items()}
            save_file(weights, str(draft.path / f"{k}.safetensors"))
        shutil.copy(work / "log.csv", draft.path / "log.csv")
        if (work / "samples").is_dir():
            shutil.copytree(work / "samples", draft.path / "samples")
        if (work / "tb").is_dir():
            shutil.copytree(work / "tb", draft.path / "tb")
        return draft.publish(config, inputs, summary, key)


def _tensorboard(enabled: bool, work: Path, info: DistInfo):
    if not enabled or not info.is_main:
        return None
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError as e:
        raise VgisganError("--tensorboard needs the tensorboard package: pip install tensorboard") from e
    return SummaryWriter(str(work / "tb"))


SCHEDULE_ONLY = ("iters", "log_every", "sample_every", "checkpoint_every")


@dataclass
class Plan:
    """Everything `run` resolves and validates before any heavy work."""

    cfg: TrainGanConfig
    model: GanModelConfig
    cache: FrameCache
    flow: torch.nn.Module
    name: str
    key: str
    config: dict
    inputs: list
    train_videos: list[int]  # 0-based training videos the GAN trains on
    val_videos: list[int]  # the held-out rest (--val-videos), empty by default

    @property
    def trajectory_key(self) -> str:
        """Names the folder of the resumable state. Settings that only say how long to train or how often to
        log leave the trajectory unchanged, so they are left out: `--iters 4000 --resume` continues a finished
        2,500-iteration run instead of starting over. With `lr_decay` the rate depends on `iters`, which then
        stays in."""
        kept = {"iters"} if self.cfg.lr_decay > 0 else set()
        train = {k: v for k, v in self.config["train"].items() if k not in set(SCHEDULE_ONLY) - kept}
        return run_hash("gan-trajectory", {**self.config, "train": train}, self.inputs)


def run(
    cfg: TrainGanConfig,
    store: Store,
    frames_ref: str | None = None,
    name: str | None = None,
    device: torch.device = torch.device("cpu"),
    resume: bool = False,
    force: bool = False,
    tensorboard: bool = False,
    progress: Progress = silent,
    notes: Notes = no_notes,
) -> StageResult | None:
    """Train both branches; returns the published artifact (None on ranks other than 0 under torchrun)."""
    frames = store.resolve(frames_ref, "frames")
    notes(f"frames: {frames.ref}")
    cache = FrameCache(frames.path)
    check_clips(cache, cfg.t_past, frames.ref)
    train_videos, val_videos = split_validation(cache, cfg.val_videos, frames.ref)
    mcfg = model_config(cache, cfg)
    flow = build_flow(cfg.flow, cfg.flow_weights)
    name = name or frames.manifest.name
    inputs = [store.input_ref("frames", frames)]
    config = {"model": mcfg.model_dump(mode="json"), "train": cfg.model_dump(mode="json")}
    key = run_hash("gan", config, inputs)
    if reused := try_reuse(store, "gan", name, key, force, notes):
        return reused

    plan = Plan(cfg, mcfg, cache, flow, name, key, config, inputs, train_videos, val_videos)
    info = init_from_env(device)
    try:
        return _train(plan, store, info, resume, tensorboard, progress, notes)
    finally:
        shutdown(info)


def _build(plan: Plan, info: DistInfo) -> tuple[GanNets, dict, ClipSampler]:
    cfg, device = plan.cfg, info.device
    torch.manual_seed(cfg.seed)  # same initial weights on every rank
    nets = build_nets(plan.model, plan.flow)
    for m in nets.trainable().values():
        m.to(device)
        if cfg.channels_last and device.type == "cuda":
            m.to(memory_format=torch.channels_last)
    nets.flow.to(device)
    opts = build_optimizers(nets, cfg)
    seed = cfg.seed + 1000 * info.rank
    sampler = ClipSampler(plan.cache, "train", cfg.t_past + 1, seed, flip=cfg.flip, videos=plan.train_videos)
    return nets, opts, sampler


def _validation_clips(plan: Plan, info: DistInfo) -> torch.Tensor | None:
    """The fixed held-out clips (VAL_CLIPS, T+1, C, H, W) on the CPU, or None without --val-videos."""
    if not plan.val_videos or not info.is_main:
        return None
    return ClipSampler(plan.cache, "train", plan.cfg.t_past + 1, VAL_SEED, videos=plan.val_videos).sample(VAL_CLIPS)


def _restore(
    ckpt: Path,
    nets: GanNets,
    opts: dict,
    sampler: ClipSampler,
    resume: bool,
    info: DistInfo,
    notes: Notes,
    iters: int,
    decays: bool,
) -> int:
    """The iteration to start from: the checkpoint's with --resume, else 0."""
    if resume and ckpt.exists():
        start = _load_checkpoint(ckpt, nets, opts, sampler)
        if start > iters:
            raise VgisganError(
                f"the checkpoint {ckpt} is at iteration {start}, past --iters {iters}: "
                f"pass --iters {start} or more to continue it, or leave out --resume to start over"
            )
        notes(f"resuming from iteration {start} ({ckpt})")
        return start
    if resume:
        why = " (with --lr-decay a run continues only at the --iters it started with)" if decays else ""
        notes(f"no checkpoint of this run to resume{why}: starting from the beginning")
    elif ckpt.exists() and info.is_main:
        notes("a checkpoint of a run with these settings exists; starting over (pass --resume to continue from it)")
    return 0


def _report(done: int, rate: float, stats: dict, log: CsvLog, tb, total: int, progress: Progress) -> None:
    log.append({"iter": done, **stats, "it_per_s": rate})
    if tb is not None:
        for k, v in stats.items():
            if v != "":  # val_psnr_n is blank between checkpoints
                tb.add_scalar(k, v, done)
    progress(
        "train-gan",
        done,
        total,
        loss_n=stats["g_loss_n"],
        loss_p=stats["g_loss_p"],
        psnr_n=stats["psnr_n"],
        psnr_p=stats["psnr_p"],
        depart=stats["departure_p"],
    )


def _train(
    plan: Plan, store: Store, info: DistInfo, resume: bool, tensorboard: bool, progress: Progress, notes: Notes
) -> StageResult | None:
    cfg, device = plan.cfg, info.device
    nets, opts, sampler = _build(plan, info)
    work = store.work_dir("gan", plan.name, plan.trajectory_key)
    ckpt = work / "checkpoint.safetensors"
    start = _restore(ckpt, nets, opts, sampler, resume, info, notes, cfg.iters, cfg.lr_decay > 0)
    for k in ("g_normal", "g_pseudo", "d_normal", "d_pseudo"):
        setattr(nets, k, wrap(getattr(nets, k), info))
    if start == 0 and info.is_main:
        shutil.rmtree(work / "samples", ignore_errors=True)
        shutil.rmtree(work / "tb", ignore_errors=True)
    log = CsvLog(work / "log.csv", start) if info.is_main else None
    tb = _tensorboard(tensorboard, work, info)
    amp = cfg.amp and device.type == "cuda"
    val_clips = _validation_clips(plan, info)
    t0, stats, last_val = time.perf_counter(), {}, None
    with StopRequest() as stop:
        for done in range(start + 1, cfg.iters + 1):
            clip = sampler.sample(cfg.batch_size).to(device, non_blocking=True)  # (B, T+1, C, H, W)
            lr_n = decayed_lr(cfg.lr_g, done - 1, cfg.iters, cfg.lr_decay)
            for group in opts["g_normal"].param_groups:
                group["lr"] = lr_n
            stats, frames = train_step(nets, opts, cfg, clip, amp)
            stats["lr_n"] = lr_n
            try:  # a stop request, or Ctrl-C while reporting, ends the run after a whole iteration
                if stop.requested:
                    raise KeyboardInterrupt
                validate = val_clips is not None and (done % cfg.checkpoint_every == 0 or done == cfg.iters)
                if validate:
                    last_val = prediction_psnr(_raw(nets.g_normal), val_clips)
                if info.is_main and (done % cfg.log_every == 0 or done == cfg.iters or validate):
                    row = stats if val_clips is None else stats | {"val_psnr_n": last_val if validate else ""}
                    _report(done, (done - start) / (time.perf_counter() - t0), row, log, tb, cfg.iters, progress)
                if info.is_main and (done % cfg.sample_every == 0 or done == cfg.iters):
                    _sample_grid(clip, frames, work / "samples" / f"iter_{done:07d}.png")
                if info.is_main and done % cfg.checkpoint_every == 0:
                    _save_checkpoint(ckpt, nets, opts, sampler, done)
            except KeyboardInterrupt:
                if info.is_main:
                    _save_checkpoint(ckpt, nets, opts, sampler, done)
                    notes(f"stopped at iteration {done}; checkpoint saved, continue with --resume")
                raise
    if tb is not None:
        tb.close()
    barrier(info)
    if not info.is_main:
        return None
    _save_checkpoint(ckpt, nets, opts, sampler, cfg.iters)
    elapsed = time.perf_counter() - t0
    summary = {
        "iters": cfg.iters,
        "resumed_from": start,
        **runtime(device),
        "world_size": info.world,
        "seconds": round(elapsed, 1),
        "iters_per_s": round((cfg.iters - start) / max(elapsed, 1e-9), 3),
        "final": {k: round(float(v), 4) for k, v in stats.items()},
        "parameters": {k: int(sum(p.numel() for p in m.parameters())) for k, m in nets.trainable().items()},
    }
    if last_val is not None:
        summary["val_psnr_n"] = round(last_val, 3)
    art = _publish(store, plan.name, plan.key, nets, work, plan.config, plan.inputs, summary)
    return StageResult(art, reused=False)
