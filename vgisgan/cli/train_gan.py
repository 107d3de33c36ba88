"""`vgisgan train-gan`: train the normal predictor and the pseudo-anomaly generator."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from vgisgan.cli.common import (
    ConfigOption,
    DeviceOption,
    ForceOption,
    NameOption,
    StoreOption,
    ThreadsOption,
    echo,
    handle_errors,
    run_with_progress,
)
from vgisgan.config import TrainGanConfig as C


@handle_errors
def train_gan(
    frames: Optional[str] = typer.Option(
        None, "--frames", help="Frame cache (frames/NAME\\[@vN]); default: the latest."
    ),
    iters: Optional[int] = typer.Option(None, "--iters", help=C.help("iters")),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help=C.help("batch_size")),
    t_past: Optional[int] = typer.Option(None, "--t-past", help=C.help("t_past")),
    width: Optional[int] = typer.Option(None, "--width", help=C.help("width")),
    depth: Optional[int] = typer.Option(None, "--depth", help=C.help("depth")),
    d_width: Optional[int] = typer.Option(None, "--d-width", help=C.help("d_width")),
    pseudo_output: Optional[str] = typer.Option(None, "--pseudo-output", help=C.help("pseudo_output")),
    max_shift: Optional[float] = typer.Option(None, "--max-shift", help=C.help("max_shift")),
    warp_mask: Optional[bool] = typer.Option(None, "--warp-mask/--no-warp-mask", help=C.help("warp_mask")),
    residual: Optional[bool] = typer.Option(None, "--residual/--whole-frame", help=C.help("residual")),
    lr_g: Optional[float] = typer.Option(None, "--lr-g", help=C.help("lr_g")),
    lr_pseudo: Optional[float] = typer.Option(None, "--lr-pseudo", help=C.help("lr_pseudo")),
    lr_decay: Optional[float] = typer.Option(None, "--lr-decay", help=C.help("lr_decay")),
    lr_d: Optional[float] = typer.Option(None, "--lr-d", help=C.help("lr_d")),
    w_motion: Optional[float] = typer.Option(None, "--w-motion", help=C.help("w_motion")),
    w_adv: Optional[float] = typer.Option(None, "--w-adv", help=C.help("w_adv")),
    w_departure: Optional[float] = typer.Option(None, "--w-departure", help=C.help("w_departure")),
    departure_margin: Optional[float] = typer.Option(None, "--departure-margin", help=C.help("departure_margin")),
    departure_top: Optional[float] = typer.Option(None, "--departure-top", help=C.help("departure_top")),
    flow: Optional[str] = typer.Option(None, "--flow", help=C.help("flow")),
    flow_weights: Optional[Path] = typer.Option(None, "--flow-weights", help=C.help("flow_weights")),
    flip: Optional[bool] = typer.Option(None, "--flip/--no-flip", help=C.help("flip")),
    val_videos: Optional[int] = typer.Option(None, "--val-videos", help=C.help("val_videos")),
    seed: Optional[int] = typer.Option(None, "--seed", help=C.help("seed")),
    log_every: Optional[int] = typer.Option(None, "--log-every", help=C.help("log_every")),
    sample_every: Optional[int] = typer.Option(None, "--sample-every", help=C.help("sample_every")),
    checkpoint_every: Optional[int] = typer.Option(None, "--checkpoint-every", help=C.help("checkpoint_every")),
    amp: Optional[bool] = typer.Option(None, "--amp/--no-amp", help=C.help("amp")),
    channels_last: Optional[bool] = typer.Option(
        None, "--channels-last/--no-channels-last", help=C.help("channels_last")
    ),
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Continue from the checkpoint of a run with the same settings: an interrupted one, or a finished "
        "one to train longer (a larger --iters; logging and checkpoint intervals may differ too).",
    ),
    tensorboard: bool = typer.Option(False, "--tensorboard", help="Also write TensorBoard events (needs tensorboard)."),
    device: str = DeviceOption,
    threads: Optional[int] = ThreadsOption,
    name: Optional[str] = NameOption,
    config: Optional[Path] = ConfigOption,
    force: bool = ForceOption,
    store: Path = StoreOption,
) -> None:
    """Train the two-branch GAN on a frame cache and publish gan/NAME@vN.

    Multi-GPU: torchrun --nproc-per-node N -m vgisgan train-gan ... (rank 0 writes the artifact).
    """
    from vgisgan.device import resolve_device
    from vgisgan.stages import train_gan as stage
    from vgisgan.store import Store

    cfg = C.build(
        config,
        iters=iters,
        batch_size=batch_size,
        t_past=t_past,
        width=width,
        depth=depth,
        d_width=d_width,
        pseudo_output=pseudo_output,
        max_shift=max_shift,
        warp_mask=warp_mask,
        residual=residual,
        lr_g=lr_g,
        lr_pseudo=lr_pseudo,
        lr_decay=lr_decay,
        lr_d=lr_d,
        w_motion=w_motion,
        w_adv=w_adv,
        w_departure=w_departure,
        departure_margin=departure_margin,
        departure_top=departure_top,
        flow=flow,
        flow_weights=str(flow_weights) if flow_weights else None,
        flip=flip,
        val_videos=val_videos,
        seed=seed,
        log_every=log_every,
        sample_every=sample_every,
        checkpoint_every=checkpoint_every,
        amp=amp,
        channels_last=channels_last,
    )
    dev = resolve_device(device, threads)
    result = run_with_progress(
        stage.run,
        cfg,
        Store(store),
        frames_ref=frames,
        name=name,
        device=dev,
        resume=resume,
        force=force,
        tensorboard=tensorboard,
    )
    if result is None:
        return
    s = result.artifact.manifest.summary
    if result.reused:
        echo(f"reused {result.artifact.ref}")
        return
    f = s["final"]
    echo(
        f"published {result.artifact.ref}: {s['iters']} iterations in {s['seconds']} s ({s['iters_per_s']} it/s on "
        f"{s['device']}, {s['threads']} threads); last batch: normal PSNR {f.get('psnr_n', float('nan')):.2f} dB, "
        f"pseudo PSNR {f.get('psnr_p', float('nan')):.2f} dB, "
        f"pseudo motion departure {f.get('departure_p', float('nan')):.3f} px"
        + (f"; held-out normal PSNR {s['val_psnr_n']:.2f} dB" if "val_psnr_n" in s else "")
    )
