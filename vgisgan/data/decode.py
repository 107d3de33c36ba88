"""Decode one video (a frame folder or a video file) into resized uint8 frames, with clear errors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from vgisgan.data.layouts import VideoItem
from vgisgan.data.source import Source
from vgisgan.errors import VgisganError


@dataclass
class Decoded:
    frames: np.ndarray  # (L, H, W, C) uint8
    fps: float
    source_size: tuple[int, int]


def convert(img_bgr: np.ndarray, size: tuple[int, int], channels: int) -> np.ndarray:
    """OpenCV BGR image -> (H, W, C) uint8 at `size`, grayscale or RGB."""
    if img_bgr.shape[:2] != size:
        img_bgr = cv2.resize(img_bgr, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    if channels == 1:
        return cv2.cvtColor(img_bgr, cv2.COLOR_BGR2GRAY)[..., None]
    return cv2.cvtColor(img_bgr, cv2.COLOR_BGR2RGB)


def _check_size(first: tuple[int, int] | None, shape: tuple[int, ...], where: str) -> tuple[int, int]:
    size = (int(shape[0]), int(shape[1]))
    if first is not None and size != first:
        raise VgisganError(
            f"{where} is {size[0]}x{size[1]} but earlier frames of its video are {first[0]}x{first[1]}: "
            "frames of one video must share one size"
        )
    return size


def decode_item(
    src: Source, item: VideoItem, size: tuple[int, int], channels: int, on_frames: Callable[[int], None]
) -> Decoded:
    out: list[np.ndarray] = []
    first: tuple[int, int] | None = None
    fps = 0.0
    if item.video is None:
        for rel in item.frames:
            buf = np.frombuffer(src.read_bytes(rel), np.uint8)
            img = cv2.imdecode(buf, cv2.IMREAD_COLOR) if buf.size else None
            if img is None:
                raise VgisganError(
                    f"{src.describe(rel)} is not a readable image (corrupt frame?): replace or remove it"
                )
            first = _check_size(first, img.shape, src.describe(rel))
            out.append(convert(img, size, channels))
            if len(out) % 16 == 0:
                on_frames(16)
        on_frames(len(out) % 16)
    else:
        with src.local_path(item.video) as path:
            cap = cv2.VideoCapture(str(path))
            try:
                if not cap.isOpened():
                    raise VgisganError(f"{src.describe(item.video)} cannot be opened as a video (corrupt file?)")
                fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
                while True:
                    ok, img = cap.read()
                    if not ok:
                        break
                    first = _check_size(first, img.shape, src.describe(item.video))
                    out.append(convert(img, size, channels))
                    if len(out) % 16 == 0:
                        on_frames(16)
                on_frames(len(out) % 16)
            finally:
                cap.release()
    if not out:
        raise VgisganError(f"{src.describe(item.video or item.origin)} has no frames: remove the empty video")
    return Decoded(np.stack(out), fps, first or size)
