"""`vgisgan run DATASET`: the whole pipeline with one preset."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from vgisgan.cli.common import (
    DeviceOption,
    StoreOption,
    ThreadsOption,
    echo,
    handle_errors,
    out_console,
    run_with_progress,
)
from vgisgan.config import DEFAULT_MIX


@handle_errors
def run(
    dataset: str = typer.Argument("synthetic", help="ped2, ped1, avenue, shanghaitech, synthetic or folder."),
    source: Optional[Path] = typer.Option(None, "--source", help="Dataset folder or archive (see `prepare --help`)."),
    frames: Optional[str] = typer.Option(
        None,
        "--frames",
        help="Start from this frame cache (e.g. frames/ped2, made by `prepare` here or on another machine) "
        "instead of preparing one; the preset's prepare settings then do not apply.",
    ),
    preset: str = typer.Option(
        "cpu", "--preset", help="tiny (seconds, for tests), cpu (a laptop), paper (FFP settings, a GPU)."
    ),
    method: str = typer.Option("ffp-pseudo", "--method", help="Pseudo-anomaly method (docs/methods.md)."),
    mix: str = typer.Option(
        ",".join(DEFAULT_MIX),
        "--mix",
        help="Methods whose pseudo-anomalies the detector also learns, comma-separated, or none.",
    ),
    seed: Optional[int] = typer.Option(
        None, "--seed", help="Seed of train-gan, generate and train-detector (default: each stage's)."
    ),
    config: Optional[Path] = typer.Option(
        None,
        "--config",
        # Rich reads [word] as markup: the backslashes keep the section names in --help.
        help="TOML with \\[prepare], \\[train_gan], \\[generate], "
        "\\[train_detector], \\[evaluate] sections overriding the preset.",
    ),
    device: str = DeviceOption,
    threads: Optional[int] = ThreadsOption,
    resume: bool = typer.Option(
        False,
        "--resume",
        help="Continue training stages from their checkpoints: interrupted ones, or the GAN of a finished run "
        "when \\[train_gan] iters is raised (a GAN with a constant rate; the cpu preset's decays, so there a "
        "longer GAN starts over).",
    ),
    name: Optional[str] = typer.Option(
        None,
        "--name",
        help="Name of the detector and evaluation (default: the pseudo-anomalies', e.g. ped2 or ped2-patch), "
        "so that a variant, such as one method alone, sits beside the run's own in one store.",
    ),
    force: bool = typer.Option(False, "--force", help="Redo every stage even where a matching artifact exists."),
    store: Path = StoreOption,
) -> None:
    """Run prepare -> train-gan -> generate -> train-detector -> evaluate, reusing what already exists."""
    from vgisgan.cli.evaluate import metrics_table
    from vgisgan.config import load_toml
    from vgisgan.device import resolve_device
    from vgisgan.errors import VgisganError
    from vgisgan.stages import pipeline
    from vgisgan.store import Store

    if frames and source:
        raise VgisganError("give --source (prepare the dataset) or --frames (use a prepared cache), not both")
    overrides = load_toml(config) if config else {}
    data_dirs = [Path(p) for p in [os.environ.get("VGISGAN_DATA")] if p] + [Path("datasets")]
    results = run_with_progress(
        pipeline.run,
        dataset,
        Store(store),
        preset=preset,
        method=method,
        mix=tuple(m.strip() for m in mix.split(",") if m.strip() and mix.strip() != "none"),
        seed=seed,
        source=str(source) if source else None,
        frames_ref=frames,
        name=name,
        overrides=overrides,
        data_dirs=data_dirs,
        device=resolve_device(device, threads),
        resume=resume,
        force=force,
    )
    for stage, r in results.items():
        echo(f"{stage:15s} {'reused   ' if r.reused else 'published'} {r.artifact.ref}  ({r.artifact.path})")
    summary = results["evaluate"].artifact.manifest.summary
    if summary["metrics"]:
        out_console.print(
            metrics_table(summary, f"{dataset} ({preset} preset, {method}, mix: {mix}) frame-level metrics (%)")
        )
