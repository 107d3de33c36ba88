"""Write the synthetic dataset in any of the on-disk layouts `prepare` reads (for tests and demos)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vgisgan.data.synthetic import Video

LAYOUTS = ("frames", "ucsd", "avenue", "shanghaitech", "folder")


def label_ranges(labels: np.ndarray) -> list[tuple[int, int]]:
    """0/1 per frame -> 1-based inclusive [start, end] runs of ones."""
    padded = np.concatenate([[0], labels.astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return [(int(s) + 1, int(e)) for s, e in zip(edges[::2], edges[1::2])]


def _write_frames(folder: Path, frames: np.ndarray, ext: str = ".jpg", start: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for i, f in enumerate(frames):
        cv2.imwrite(str(folder / f"{i + start:03d}{ext}"), f[..., ::-1])


def _write_avi(path: Path, frames: np.ndarray, fps: float = 25.0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames.shape[1:3]
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (w, h))
    for f in frames:
        out.write(np.ascontiguousarray(f[..., ::-1]))
    out.release()


def _gt_cells(test: list[Video]) -> np.ndarray:
    cells = np.empty((1, len(test)), dtype=object)
    for i, v in enumerate(test):
        r = label_ranges(v.labels)
        cells[0, i] = np.array(r, dtype=np.int32).T.reshape(2, -1)
    return cells


def write_layout(layout: str, out: Path, train: list[Video], test: list[Video], dataset: str = "synthetic") -> Path:
    """Write videos in `layout` under `out`; returns the folder to pass to `prepare --source`."""
    from scipy.io import savemat

    out.mkdir(parents=True, exist_ok=True)
    if layout == "frames":
        for v in train:
            _write_frames(out / "training/frames" / v.name, v.frames)
        for v in test:
            _write_frames(out / "testing/frames" / v.name, v.frames)
        savemat(out / f"{dataset}.mat", {"gt": _gt_cells(test)})
    elif layout == "ucsd":
        root = out / "UCSDped2"
        for i, v in enumerate(train):
            _write_frames(root / f"Train/Train{i + 1:03d}", v.frames, ".tif", start=1)
        lines = []
        for i, v in enumerate(test):
            _write_frames(root / f"Test/Test{i + 1:03d}", v.frames, ".tif", start=1)
            _write_frames(
                root / f"Test/Test{i + 1:03d}_gt",
                (v.masks[..., None] * 255).repeat(3, -1).astype(np.uint8),
                ".bmp",
                start=1,
            )
            spans = ", ".join(f"{s}:{e}" for s, e in label_ranges(v.labels))
            lines.append(f"TestVideoFile{{end+1}}.gt_frame = [{spans}];")
        (root / "Test/UCSDped2.m").write_text("TestVideoFile = {};\n" + "\n".join(lines) + "\n")
    elif layout == "avenue":
        for v in train:
            _write_avi(out / f"training_videos/{v.name}.avi", v.frames)
        masks_dir = out / "ground_truth_demo/testing_label_mask"
        masks_dir.mkdir(parents=True, exist_ok=True)
        for v in test:
            _write_avi(out / f"testing_videos/{v.name}.avi", v.frames)
            cells = np.empty((1, len(v.masks)), dtype=object)
            for j, m in enumerate(v.masks):
                cells[0, j] = m.astype(np.uint8)
            savemat(masks_dir / f"{int(v.name)}_label.mat", {"volLabel": cells})
    elif layout == "shanghaitech":
        for v in train:
            _write_avi(out / f"training/videos/01_{int(v.name):03d}.avi", v.frames)
        for v in test:
            name = f"01_{int(v.name):04d}"
            _write_frames(out / "testing/frames" / name, v.frames)
            (out / "testing/test_frame_mask").mkdir(parents=True, exist_ok=True)
            np.save(out / f"testing/test_frame_mask/{name}.npy", v.labels.astype(np.int64))
    elif layout == "folder":
        for v in train:
            _write_avi(out / f"train/{v.name}.avi", v.frames)
        rows = ["video,start,end"]
        for v in test:
            _write_frames(out / "test" / v.name, v.frames, ".png")
            rows += [f"{v.name},{s},{e}" for s, e in label_ranges(v.labels)]
        (out / "labels.csv").write_text("\n".join(rows) + "\n")
    else:
        raise ValueError(f"unknown layout {layout!r}")
    return out
