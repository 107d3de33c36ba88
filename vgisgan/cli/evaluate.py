"""`vgisgan evaluate`: score test frames and report AUC/EER."""

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
    out_console,
    run_with_progress,
)
from vgisgan.config import EvaluateConfig as C


def metrics_table(summary: dict, title: str):
    from rich.table import Table

    table = Table(title=title)
    for col in ("score", "micro AUC (per-video)", "micro AUC (none)", "macro AUC (per-video)", "EER (per-video)"):
        table.add_column(col, justify="right" if col != "score" else "left")

    def pct(x: float) -> str:
        return "n/a" if x != x else f"{100 * x:.2f}"

    for score, m in summary["metrics"].items():
        pv, raw = m["per-video"], m["none"]
        table.add_row(
            score.removeprefix("score_"),
            pct(pv["micro_auc"]),
            pct(raw["micro_auc"]),
            pct(pv["macro_auc"]),
            pct(pv["eer"]),
        )
    for ref, value in summary.get("references", {}).items():
        table.add_row(f"[dim]{ref}[/]", f"[dim]{value:.1f}[/]", "", "", "")
    return table


@handle_errors
def evaluate(
    gan: Optional[str] = typer.Option(
        None, "--gan", help="GAN for the psnr score; default: the latest made from the frames."
    ),
    detector: Optional[str] = typer.Option(
        None, "--detector", help="Detector; default: the latest made from the frames."
    ),
    frames: Optional[str] = typer.Option(None, "--frames", help="Frame cache with the test split; default: the GAN's."),
    alpha: Optional[float] = typer.Option(None, "--alpha", help=C.help("alpha")),
    fusion: Optional[str] = typer.Option(None, "--fusion", help=C.help("fusion")),
    smooth: Optional[float] = typer.Option(None, "--smooth", help=C.help("smooth")),
    psnr_window: Optional[float] = typer.Option(None, "--psnr-window", help=C.help("psnr_window")),
    psnr_pool: Optional[int] = typer.Option(None, "--psnr-pool", help=C.help("psnr_pool")),
    flip: Optional[bool] = typer.Option(None, "--flip/--no-flip", help=C.help("flip")),
    reverse: Optional[bool] = typer.Option(None, "--reverse/--no-reverse", help=C.help("reverse")),
    cell_levels: Optional[bool] = typer.Option(None, "--cell-levels/--no-cell-levels", help=C.help("cell_levels")),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help=C.help("batch_size")),
    plots: Optional[bool] = typer.Option(None, "--plots/--no-plots", help=C.help("plots")),
    device: str = DeviceOption,
    threads: Optional[int] = ThreadsOption,
    name: Optional[str] = NameOption,
    config: Optional[Path] = ConfigOption,
    force: bool = ForceOption,
    store: Path = StoreOption,
) -> None:
    """Score every test frame (psnr, detector, combined) and publish eval/NAME@vN with scores.csv and metrics.json."""
    from vgisgan.device import resolve_device
    from vgisgan.stages import evaluate as stage
    from vgisgan.store import Store

    cfg = C.build(
        config,
        alpha=alpha,
        fusion=fusion,
        smooth=smooth,
        psnr_window=psnr_window,
        psnr_pool=psnr_pool,
        flip=flip,
        reverse=reverse,
        cell_levels=cell_levels,
        batch_size=batch_size,
        plots=plots,
    )
    result = run_with_progress(
        stage.run,
        cfg,
        Store(store),
        gan_ref=gan,
        detector_ref=detector,
        frames_ref=frames,
        name=name,
        device=resolve_device(device, threads),
        force=force,
    )
    art = result.artifact
    s = art.manifest.summary
    echo(
        f"{'reused' if result.reused else 'published'} {art.ref}: {s['frames_scored']} frames scored -> "
        f"{art.file('scores.csv')}"
    )
    if s["metrics"]:
        smooth_note = f", smoothing sigma {s['smooth']}" if s["smooth"] else ", no smoothing"
        out_console.print(metrics_table(s, f"{s['dataset']} frame-level metrics (%){smooth_note}"))
    else:
        echo("no labels in this test split: AUC and EER need labels")
    if (art.path / "plots" / "index.html").exists():
        echo(f"plots: {art.path / 'plots' / 'index.html'}")
