"""The frame cache: decoded, resized uint8 frames that later stages read without decoding images again.

Payload of a `frames` artifact:
  index.json        frame size, channels, storage, and per split the videos (name, offset, length, fps, ...)
  train.u8, test.u8 raw storage: all frames of a split back to back, (N, H, W, C) uint8, memory-mappable
  train.npz, ...    compressed storage: zlib-compressed chunks of CHUNK frames per video
  test_labels.npy   one 0/1 per test frame, videos back to back (absent when the dataset has no labels)
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from vgisgan.errors import VgisganError

CHUNK = 64
SPLITS = ("train", "test")


@dataclass
class VideoInfo:
    name: str
    offset: int  # index of its first frame in the split
    length: int
    fps: float
    source_size: tuple[int, int]  # (H, W) before resizing
    origin: str  # where it came from in the source


class CacheWriter:
    """Appends videos split by split; `close()` writes the index. Used inside an artifact Draft."""

    def __init__(self, folder: Path, size: tuple[int, int], channels: int, storage: str):
        self.folder, self.size, self.channels, self.storage = folder, size, channels, storage
        self.videos: dict[str, list[VideoInfo]] = {s: [] for s in SPLITS}
        self.labels: list[np.ndarray] = []
        self.any_labels = False
        self._raw = {s: open(folder / f"{s}.u8", "wb") for s in SPLITS} if storage == "raw" else {}
        self._zip = (
            {s: zipfile.ZipFile(folder / f"{s}.npz", "w", zipfile.ZIP_DEFLATED, compresslevel=1) for s in SPLITS}
            if storage == "compressed"
            else {}
        )

    def add(self, split: str, info: VideoInfo, frames: np.ndarray, labels: np.ndarray | None) -> None:
        expected = (*self.size, self.channels)
        assert frames.dtype == np.uint8 and frames.shape[1:] == expected, (frames.shape, expected)
        vids = self.videos[split]
        info.offset = vids[-1].offset + vids[-1].length if vids else 0
        info.length = len(frames)
        vids.append(info)
        if self.storage == "raw":
            self._raw[split].write(np.ascontiguousarray(frames).tobytes())
        else:
            for j in range(0, len(frames), CHUNK):
                with self._zip[split].open(f"v{len(vids) - 1}_c{j // CHUNK}.npy", "w") as f:
                    np.lib.format.write_array(f, np.ascontiguousarray(frames[j : j + CHUNK]))
        if split == "test":
            self.any_labels |= labels is not None
            self.labels.append(labels if labels is not None else np.full(len(frames), 255, np.uint8))

    def abort(self) -> None:
        for f in [*self._raw.values(), *self._zip.values()]:
            f.close()

    def close(self) -> dict:
        self.abort()
        if self.any_labels:
            flat = np.concatenate(self.labels) if self.labels else np.zeros(0, np.uint8)
            if (flat == 255).any():
                raise VgisganError("some test videos have labels and others do not: label all or none")
            np.save(self.folder / "test_labels.npy", flat)
        index = {
            "size": list(self.size),
            "channels": self.channels,
            "storage": self.storage,
            "chunk": CHUNK,
            "has_labels": self.any_labels,
            "splits": {s: [asdict(v) for v in self.videos[s]] for s in SPLITS},
        }
        (self.folder / "index.json").write_text(json.dumps(index, indent=1))
        return index


class FrameCache:
    """Read access to a published frame cache."""

    def __init__(self, folder: Path):
        self.folder = folder
        try:
            index = json.loads((folder / "index.json").read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise VgisganError(f"{folder / 'index.json'} is missing or damaged: run `vgisgan prepare` again") from e
        self.size: tuple[int, int] = tuple(index["size"])  # type: ignore[assignment]
        self.channels: int = index["channels"]
        self.storage: str = index["storage"]
        self.chunk: int = index["chunk"]
        self.has_labels: bool = index["has_labels"]
        self._videos = {
            s: [VideoInfo(**{**v, "source_size": tuple(v["source_size"])}) for v in index["splits"][s]] for s in SPLITS
        }
        self._arrays: dict[str, np.ndarray] = {}
        self._zips: dict[str, zipfile.ZipFile] = {}
        self._chunk_cache: dict[tuple[str, int, int], np.ndarray] = {}
        self._labels = np.load(folder / "test_labels.npy", allow_pickle=False) if self.has_labels else None

    def videos(self, split: str) -> list[VideoInfo]:
        return self._videos[split]

    def n_frames(self, split: str) -> int:
        return sum(v.length for v in self._videos[split])

    def _raw(self, split: str) -> np.ndarray:
        if split not in self._arrays:
            shape = (self.n_frames(split), *self.size, self.channels)
            self._arrays[split] = np.memmap(self.folder / f"{split}.u8", np.uint8, "r", shape=shape)
        return self._arrays[split]

    def _chunk(self, split: str, video: int, c: int) -> np.ndarray:
        key = (split, video, c)
        if key not in self._chunk_cache:
            if split not in self._zips:
                self._zips[split] = zipfile.ZipFile(self.folder / f"{split}.npz")
            if len(self._chunk_cache) > 32:  # a small cache: random clips touch one or two chunks each
                self._chunk_cache.pop(next(iter(self._chunk_cache)))
            with self._zips[split].open(f"v{video}_c{c}.npy") as f:
                self._chunk_cache[key] = np.lib.format.read_array(f, allow_pickle=False)
        return self._chunk_cache[key]

    def clip(self, split: str, video: int, start: int, n: int) -> np.ndarray:
        """Frames [start, start+n) of one video: (n, H, W, C) uint8."""
        info = self._videos[split][video]
        if start < 0 or start + n > info.length:
            raise IndexError(f"clip {start}:{start + n} outside video {info.name} of {info.length} frames")
        if self.storage == "raw":
            return self._raw(split)[info.offset + start : info.offset + start + n]
        parts = []
        for c in range(start // self.chunk, (start + n - 1) // self.chunk + 1):
            block = self._chunk(split, video, c)
            lo = max(start - c * self.chunk, 0)
            hi = min(start + n - c * self.chunk, len(block))
            parts.append(block[lo:hi])
        return np.concatenate(parts)

    def video(self, split: str, video: int) -> np.ndarray:
        return self.clip(split, video, 0, self._videos[split][video].length)

    def labels(self, video: int) -> np.ndarray | None:
        """0/1 per frame of test video `video`, or None when the dataset has no labels."""
        if self._labels is None:
            return None
        info = self._videos["test"][video]
        return self._labels[info.offset : info.offset + info.length]

    def clip_starts(self, split: str, n: int) -> np.ndarray:
        """(video, start) of every clip of n frames that lies inside one video: (K, 2) int64."""
        rows = [(i, s) for i, v in enumerate(self._videos[split]) for s in range(v.length - n + 1)]
        return np.array(rows, np.int64).reshape(-1, 2)
