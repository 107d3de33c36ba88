"""Evaluation plots (matplotlib, headless) and an index.html that shows them all."""

from __future__ import annotations

import html
import shutil
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vgisgan.metrics import minmax_per_video

COLORS = {"score_psnr": "tab:blue", "score_detector": "tab:orange", "score_combined": "tab:green"}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    return plt


def _shade(ax, frames: np.ndarray, labels: np.ndarray) -> None:
    """Shade the ground-truth abnormal frame runs."""
    on = np.flatnonzero(labels > 0)
    if len(on) == 0:
        return
    breaks = np.flatnonzero(np.diff(frames[on]) > 1)
    for run in np.split(on, breaks + 1):
        ax.axvspan(frames[run[0]] - 0.5, frames[run[-1]] + 0.5, color="tab:red", alpha=0.15, lw=0)


def video_curves(table: dict, scores: list[str], out: Path) -> list[Path]:
    plt = _pyplot()
    paths = []
    videos = table["video"]
    for v in dict.fromkeys(videos.tolist()):
        idx = np.flatnonzero(videos == v)
        idx = idx[np.argsort(table["frame"][idx])]
        fig, ax = plt.subplots(figsize=(8, 2.6))
        if table["label"] is not None:
            _shade(ax, table["frame"][idx], table["label"][idx])
        for s in scores:
            ax.plot(
                table["frame"][idx],
                minmax_per_video(table[s][idx], videos[idx]),
                label=s.removeprefix("score_"),
                color=COLORS.get(s),
                lw=1.2,
            )
        ax.set(
            title=f"video {v} (red: ground-truth abnormal)",
            xlabel="frame",
            ylabel="anomaly score (per-video min-max)",
            ylim=(-0.05, 1.05),
        )
        ax.legend(loc="upper right", fontsize=7)
        fig.tight_layout()
        path = out / f"video_{v}.png"
        fig.savefig(path, dpi=90)
        plt.close(fig)
        paths.append(path)
    return paths


def roc_and_histograms(table: dict, scores: list[str], out: Path) -> list[Path]:
    from sklearn.metrics import roc_curve

    plt = _pyplot()
    y = table["label"]
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for s in scores:
        fpr, tpr, _ = roc_curve(y, minmax_per_video(table[s], table["video"]))
        ax.plot(fpr, tpr, label=s.removeprefix("score_"), color=COLORS.get(s))
    ax.plot([0, 1], [0, 1], ls=":", color="gray")
    ax.set(xlabel="false positive rate", ylabel="true positive rate", title="ROC (per-video normalised)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "roc.png", dpi=90)
    plt.close(fig)
    fig, axes = plt.subplots(1, len(scores), figsize=(4 * len(scores), 3), squeeze=False)
    for ax, s in zip(axes[0], scores):
        x = minmax_per_video(table[s], table["video"])
        ax.hist(
            [x[y == 0], x[y == 1]],
            bins=30,
            label=["normal", "abnormal"],
            color=["tab:gray", "tab:red"],
            alpha=0.7,
            density=True,
        )
        ax.set(title=s.removeprefix("score_"), xlabel="score (per-video min-max)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(out / "histograms.png", dpi=90)
    plt.close(fig)
    return [out / "roc.png", out / "histograms.png"]


def region_maps(panels: list[dict], out: Path) -> Path:
    """Each panel's frame with the detector's P(abnormal) of each cell laid over it, as regions.png.

    A panel: video, frame, image (H, W, C) uint8, cells (h, w) logits, p_abnormal (the frame's P), label (or None).
    """
    plt = _pyplot()
    n_cols = min(4, len(panels))
    n_rows = -(-len(panels) // n_cols)
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(2.6 * n_cols + 1, 2.9 * n_rows), squeeze=False, layout="constrained"
    )
    for ax in axes.flat:
        ax.axis("off")
    for ax, p in zip(axes.flat, panels):
        image = p["image"][..., 0] if p["image"].shape[-1] == 1 else p["image"]
        h, w = image.shape[:2]
        ax.imshow(image, cmap="gray", vmin=0, vmax=255)
        # Each cell covers a (H/h, W/w) block of the frame; nearest keeps the blocks visible as blocks.
        cells = 1.0 / (1.0 + np.exp(-p["cells"]))
        shown = ax.imshow(
            cells, cmap="inferno", alpha=0.45, vmin=0, vmax=1, extent=(0, w, h, 0), interpolation="nearest"
        )
        truth = "" if p["label"] is None else (", label: abnormal" if p["label"] else ", label: normal")
        ax.set_title(f"video {p['video']}, frame {p['frame']}\nP {p['p_abnormal']:.2f}{truth}", fontsize=8)
    fig.suptitle("where the detector fires, on each video's highest-scoring frame", fontsize=10)
    fig.colorbar(shown, ax=axes, shrink=0.6, label="P(abnormal) of each cell")
    path = out / "regions.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def write_plots(
    table: dict, scores: list[str], out: Path, pseudo_preview: Path | None, title: str, panels: Sequence[dict] = ()
) -> Path:
    """Write every plot under `out` and an index.html; returns the index path.

    `panels`: frames to draw a regions detector's cell map on (see `region_maps`); none for other detectors.
    """
    out.mkdir(parents=True, exist_ok=True)
    figures = []
    if table["label"] is not None:
        figures += roc_and_histograms(table, scores, out)
    if pseudo_preview is not None and pseudo_preview.exists():
        shutil.copy(pseudo_preview, out / "pseudo_samples.png")
        figures.append(out / "pseudo_samples.png")
    if panels:
        figures.append(region_maps(list(panels), out))
    figures += video_curves(table, scores, out)
    note = "" if table["label"] is not None else "<p>This test split has no labels: AUC and ROC need labels.</p>"
    body = "\n".join(
        f'<figure><img src="{html.escape(p.name)}"><figcaption>{html.escape(p.stem)}</figcaption></figure>'
        for p in figures
    )
    index = out / "index.html"
    index.write_text(
        f"<!doctype html><meta charset=utf-8><title>{html.escape(title)}</title>"
        f"<style>body{{font-family:sans-serif}} img{{max-width:100%}}</style>"
        f"<h1>{html.escape(title)}</h1>{note}{body}\n"
    )
    return index
