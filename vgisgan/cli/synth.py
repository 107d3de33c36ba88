"""`vgisgan synth`: write the synthetic dataset to disk in one of the real datasets' layouts."""

from __future__ import annotations

from pathlib import Path

import typer

from vgisgan.cli.common import echo, handle_errors
from vgisgan.config import SyntheticConfig


@handle_errors
def synth(
    out: Path = typer.Option(..., "--out", help="Folder to write into."),
    layout: str = typer.Option("frames", "--layout", help="frames, ucsd, avenue, shanghaitech or folder."),
    seed: int = typer.Option(0, "--seed", help=SyntheticConfig.help("seed")),
    size: int = typer.Option(64, "--size", help=SyntheticConfig.help("size")),
    train_videos: int = typer.Option(8, "--train-videos", help=SyntheticConfig.help("train_videos")),
    test_videos: int = typer.Option(6, "--test-videos", help=SyntheticConfig.help("test_videos")),
    length: int = typer.Option(120, "--length", help=SyntheticConfig.help("length")),
) -> None:
    """Write the built-in synthetic dataset as files in a real dataset's layout (to try `prepare --source`)."""
    from vgisgan.data.layout_writer import LAYOUTS, write_layout
    from vgisgan.data.synthetic import make_dataset
    from vgisgan.errors import VgisganError

    if layout not in LAYOUTS:
        raise VgisganError(f"--layout {layout!r} is not one of {', '.join(LAYOUTS)}")
    cfg = SyntheticConfig.build(seed=seed, size=size, train_videos=train_videos, test_videos=test_videos, length=length)
    train, test = make_dataset(cfg)
    write_layout(layout, out, train, test)
    echo(f"wrote {len(train)} training and {len(test)} test videos in the {layout} layout to {out}")
