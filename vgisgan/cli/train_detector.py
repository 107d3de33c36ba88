"""`vgisgan train-detector`: learn normal vs pseudo-anomaly."""

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
from vgisgan.config import DetectorConfig as C


@handle_errors
def train_detector(
    pseudo: Optional[str] = typer.Option(
        None, "--pseudo", help="Pseudo-anomalies (pseudo/NAME\\[@vN]); default: the latest."
    ),
    add_pseudo: Optional[list[str]] = typer.Option(
        None,
        "--add-pseudo",
        help="More pseudo-anomalies to train on together with --pseudo (repeatable), e.g. a skip-frame and a "
        "patch set (on Ped2 this lifted the GAN's set alone from 77 to 87 AUC; docs/results-history.md).",
    ),
    frames: Optional[str] = typer.Option(
        None, "--frames", help="Frame cache; default: the one the pseudo-anomalies came from."
    ),
    inputs: Optional[str] = typer.Option(None, "--inputs", help=C.help("inputs")),
    gan: Optional[str] = typer.Option(
        None, "--gan", help="With --inputs frames+error: the GAN (gan/NAME\\[@vN]); default: the pseudo-anomalies' GAN."
    ),
    epochs: Optional[int] = typer.Option(None, "--epochs", help=C.help("epochs")),
    batch_size: Optional[int] = typer.Option(None, "--batch-size", help=C.help("batch_size")),
    lr: Optional[float] = typer.Option(None, "--lr", help=C.help("lr")),
    lr_decay: Optional[float] = typer.Option(None, "--lr-decay", help=C.help("lr_decay")),
    width: Optional[int] = typer.Option(None, "--width", help=C.help("width")),
    val_fraction: Optional[float] = typer.Option(None, "--val-fraction", help=C.help("val_fraction")),
    normal_predictions: Optional[bool] = typer.Option(
        None, "--normal-predictions/--no-normal-predictions", help=C.help("normal_predictions")
    ),
    head: Optional[str] = typer.Option(None, "--head", help=C.help("head")),
    select_by: Optional[str] = typer.Option(None, "--select-by", help=C.help("select_by")),
    min_val_acc: Optional[float] = typer.Option(None, "--min-val-acc", help=C.help("min_val_acc")),
    probe_skip: Optional[int] = typer.Option(None, "--probe-skip", help=C.help("probe_skip")),
    probe_n: Optional[int] = typer.Option(None, "--probe-n", help=C.help("probe_n")),
    members: Optional[int] = typer.Option(None, "--members", help=C.help("members")),
    member_splits: Optional[bool] = typer.Option(None, "--member-splits/--shared-split", help=C.help("member_splits")),
    seed: Optional[int] = typer.Option(None, "--seed", help=C.help("seed")),
    resume: bool = typer.Option(False, "--resume", help="Continue the unfinished run with the same config."),
    device: str = DeviceOption,
    threads: Optional[int] = ThreadsOption,
    name: Optional[str] = NameOption,
    config: Optional[Path] = ConfigOption,
    force: bool = ForceOption,
    store: Path = StoreOption,
) -> None:
    """Train the detector on real normal frames (0) against pseudo-anomalies (1); publish detector/NAME@vN."""
    from vgisgan.device import resolve_device
    from vgisgan.stages import train_detector as stage
    from vgisgan.store import Store

    cfg = C.build(
        config,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        lr_decay=lr_decay,
        width=width,
        val_fraction=val_fraction,
        normal_predictions=normal_predictions,
        inputs=inputs,
        head=head,
        select_by=select_by,
        min_val_acc=min_val_acc,
        probe_skip=probe_skip,
        probe_n=probe_n,
        members=members,
        member_splits=member_splits,
        seed=seed,
    )
    result = run_with_progress(
        stage.run,
        cfg,
        Store(store),
        pseudo_ref=pseudo,
        more_pseudo=add_pseudo,
        gan_ref=gan,
        frames_ref=frames,
        name=name,
        device=resolve_device(device, threads),
        resume=resume,
        force=force,
    )
    s = result.artifact.manifest.summary
    verb = "reused" if result.reused else "published"
    probe = f", probe AUC {s['probe_auc']}" if s.get("probe_auc") is not None else ""
    kept = ", ".join(str(e) for e in s["best_epochs"])
    each = f" (means over {s['members']} members)" if s["members"] > 1 else ""
    gan = next((i.ref for i in result.artifact.manifest.inputs if i.role == "gan"), None)
    reads = f"the prediction errors of {gan}" if gan else "frames alone"
    head = result.artifact.manifest.config.get("head", "pooled")
    echo(
        f"{verb} {result.artifact.ref} (reads {reads}, {head} head): "
        f"kept epoch{'s' if s['members'] > 1 else ''} {kept} (by {s['selected_by']}): "
        f"validation AUC {s['val_auc']}{probe} on held-out training videos{each}"
    )
