"""`vgisgan generate`: make pseudo-anomalies from training clips."""

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
from vgisgan.config import GenerateConfig as C


@handle_errors
def generate(
    n: Optional[int] = typer.Option(None, "--n", help=C.help("n")),
    method: Optional[str] = typer.Option(None, "--method", help=C.help("method")),
    gan: Optional[str] = typer.Option(
        None, "--gan", help="GAN artifact (gan/NAME\\[@vN]) for ffp-pseudo; default: the latest."
    ),
    frames: Optional[str] = typer.Option(
        None, "--frames", help="Frame cache; default: the one the GAN was trained on."
    ),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help=C.help("batch_size")),
    seed: Optional[int] = typer.Option(None, "--seed", help=C.help("seed")),
    t_past: Optional[int] = typer.Option(None, "--t-past", help=C.help("t_past")),
    skip: Optional[int] = typer.Option(None, "--skip", help=C.help("skip")),
    patch_frac: Optional[float] = typer.Option(None, "--patch-frac", help=C.help("patch_frac")),
    iters: Optional[int] = typer.Option(None, "--iters", help=C.help("iters")),
    train_batch: Optional[int] = typer.Option(None, "--train-batch", help=C.help("train_batch")),
    width: Optional[int] = typer.Option(None, "--width", help=C.help("width")),
    lr: Optional[float] = typer.Option(None, "--lr", help=C.help("lr")),
    t_length: Optional[int] = typer.Option(None, "--t-length", help=C.help("t_length")),
    nega_value: Optional[float] = typer.Option(None, "--nega-value", help=C.help("nega_value")),
    nega_bound: Optional[float] = typer.Option(None, "--nega-bound", help=C.help("nega_bound")),
    nega_loss: Optional[str] = typer.Option(None, "--nega-loss", help=C.help("nega_loss")),
    norm: Optional[str] = typer.Option(None, "--norm", help=C.help("norm")),
    z_dim: Optional[int] = typer.Option(None, "--z-dim", help=C.help("z_dim")),
    recon_frac: Optional[float] = typer.Option(None, "--recon-frac", help=C.help("recon_frac")),
    recon_steps: Optional[int] = typer.Option(None, "--recon-steps", help=C.help("recon_steps")),
    old_frac: Optional[float] = typer.Option(None, "--old-frac", help=C.help("old_frac")),
    noise: Optional[float] = typer.Option(None, "--noise", help=C.help("noise")),
    rec_weight: Optional[float] = typer.Option(None, "--rec-weight", help=C.help("rec_weight")),
    device: str = DeviceOption,
    threads: Optional[int] = ThreadsOption,
    name: Optional[str] = NameOption,
    config: Optional[Path] = ConfigOption,
    force: bool = ForceOption,
    store: Path = StoreOption,
) -> None:
    """Make N pseudo-anomalies from training clips and publish pseudo/NAME@vN (with a preview.png)."""
    from vgisgan.device import resolve_device
    from vgisgan.stages import generate as stage
    from vgisgan.store import Store

    cfg = C.build(
        config,
        n=n,
        method=method,
        batch_size=batch_size,
        seed=seed,
        t_past=t_past,
        skip=skip,
        patch_frac=patch_frac,
        iters=iters,
        train_batch=train_batch,
        width=width,
        lr=lr,
        t_length=t_length,
        nega_value=nega_value,
        nega_bound=nega_bound,
        nega_loss=nega_loss,
        norm=norm,
        z_dim=z_dim,
        recon_frac=recon_frac,
        recon_steps=recon_steps,
        old_frac=old_frac,
        noise=noise,
        rec_weight=rec_weight,
    )
    result = run_with_progress(
        stage.run,
        cfg,
        Store(store),
        gan_ref=gan,
        frames_ref=frames,
        name=name,
        device=resolve_device(device, threads),
        force=force,
    )
    s = result.artifact.manifest.summary
    verb = "reused" if result.reused else "published"
    echo(
        f"{verb} {result.artifact.ref}: {s['n']} {s['method']} pseudo-anomalies, PSNR to the real next frame "
        f"{s['pseudo_vs_real']['psnr_to_real_db']} dB; preview: {result.artifact.file('preview.png')}"
    )
