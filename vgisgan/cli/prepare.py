"""`vgisgan prepare DATASET`: decode a dataset into a frame cache."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import typer

from vgisgan.cli.common import (
    ConfigOption,
    ForceOption,
    NameOption,
    StoreOption,
    echo,
    handle_errors,
    run_with_progress,
)
from vgisgan.config import DATASETS, PrepareConfig, SyntheticConfig, parse_size


@handle_errors
def prepare(
    dataset: str = typer.Argument(..., help="One of: " + ", ".join(DATASETS) + "."),
    source: Optional[Path] = typer.Option(
        None,
        "--source",
        help="Dataset folder or archive (.zip/.tar/.tar.gz). Default: $VGISGAN_DATA/DATASET, then ./datasets/DATASET.",
    ),
    size: Optional[str] = typer.Option(
        None, "--size", help="Frame size HxW after resizing. " + PrepareConfig.help("size")
    ),
    channels: Optional[int] = typer.Option(None, "--channels", help=PrepareConfig.help("channels")),
    workers: Optional[int] = typer.Option(None, "--workers", help=PrepareConfig.help("workers")),
    storage: Optional[str] = typer.Option(None, "--storage", help=PrepareConfig.help("storage")),
    min_length: Optional[int] = typer.Option(None, "--min-length", help=PrepareConfig.help("min_length")),
    labels: Optional[Path] = typer.Option(None, "--labels", help=PrepareConfig.help("labels")),
    seed: Optional[int] = typer.Option(None, "--seed", help="synthetic: " + SyntheticConfig.help("seed")),
    synth_size: Optional[int] = typer.Option(None, "--synth-size", help="synthetic: " + SyntheticConfig.help("size")),
    train_videos: Optional[int] = typer.Option(
        None, "--train-videos", help="synthetic: " + SyntheticConfig.help("train_videos")
    ),
    test_videos: Optional[int] = typer.Option(
        None, "--test-videos", help="synthetic: " + SyntheticConfig.help("test_videos")
    ),
    length: Optional[int] = typer.Option(None, "--length", help="synthetic: " + SyntheticConfig.help("length")),
    name: Optional[str] = NameOption,
    config: Optional[Path] = ConfigOption,
    force: bool = ForceOption,
    store: Path = StoreOption,
) -> None:
    """Decode a dataset (or make the synthetic one) into a versioned frame cache: frames/NAME@vN."""
    from vgisgan.stages import prepare as stage
    from vgisgan.store import Store

    synthetic = {
        k: v
        for k, v in dict(
            seed=seed, size=synth_size, train_videos=train_videos, test_videos=test_videos, length=length
        ).items()
        if v is not None
    }
    cfg = PrepareConfig.build(
        config,
        dataset=dataset,
        source=str(source) if source else None,
        size=parse_size(size),
        channels=channels,
        workers=workers,
        storage=storage,
        min_length=min_length,
        labels=str(labels) if labels else None,
        synthetic=synthetic or None,
    )
    data_dirs = [Path(p) for p in [os.environ.get("VGISGAN_DATA")] if p] + [Path("datasets")]
    result = run_with_progress(stage.run, cfg, Store(store), name=name, data_dirs=data_dirs, force=force)
    s = result.artifact.manifest.summary
    verb = "reused" if result.reused else "published"
    abnormal = s["test"].get("abnormal_frames")
    echo(
        f"{verb} {result.artifact.ref}: train {s['train']['videos']} videos / {s['train']['frames']} frames, "
        f"test {s['test']['videos']} videos / {s['test']['frames']} frames / "
        f"{'no labels' if abnormal is None else f'{abnormal} abnormal'}, {s['bytes'] / 2**20:.1f} MiB"
    )
