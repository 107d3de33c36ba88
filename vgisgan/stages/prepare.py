"""Stage `prepare`: a dataset (real layout or built-in synthetic) -> a `frames` artifact (frame cache)."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from vgisgan.config import PrepareConfig
from vgisgan.data.cache import CacheWriter, VideoInfo
from vgisgan.data.decode import decode_item
from vgisgan.data.labels import ranges_to_labels
from vgisgan.data.layouts import DOWNLOAD, Layout, VideoItem, detect_layout
from vgisgan.data.source import Source, open_source
from vgisgan.errors import VgisganError
from vgisgan.progress import Notes, Progress, no_notes, silent
from vgisgan.stages.common import StageResult, run_hash, try_reuse
from vgisgan.store import Store, hash_json


def find_source(cfg: PrepareConfig, data_dirs: list[Path]) -> Path:
    """--source, else the first of data_dirs/<dataset> that exists."""
    if cfg.source:
        return Path(cfg.source).expanduser()
    for d in data_dirs:
        if (d / cfg.dataset).exists():
            return d / cfg.dataset
    looked = ", ".join(str(d / cfg.dataset) for d in data_dirs) or "nowhere"
    raise VgisganError(
        f"no {cfg.dataset} dataset found (looked in {looked}): pass --source FOLDER_OR_ARCHIVE; "
        f"download it from {DOWNLOAD.get(cfg.dataset, '?')}; layouts are described in docs/datasets.md"
    )


def _fingerprint(src: Source) -> dict:
    """Cheap identity of a source: its file list (a changed dataset makes a new version)."""
    files = src.files()
    return {"location": str(src.location.resolve()), "n_files": len(files), "files_hash": hash_json(files)}


def _labels_for(item: VideoItem, length: int, where: str) -> np.ndarray | None:
    if item.labels is None:
        return None
    if isinstance(item.labels, np.ndarray):
        if len(item.labels) != length:
            raise VgisganError(f"{where}: {len(item.labels)} labels for test video {item.name} of {length} frames")
        return item.labels.astype(np.uint8)
    return ranges_to_labels(item.labels, length, f"{where} (test video {item.name})")


def _write_layout(src: Source, layout: Layout, cfg: PrepareConfig, writer: CacheWriter, progress: Progress) -> None:
    total = sum(len(v.frames) for v in layout.videos) or None  # unknown for video files until decoded
    done = 0

    def on_frames(n: int) -> None:
        nonlocal done
        done += n
        progress("decode", done, total)

    size, channels = cfg.size, cfg.channels
    assert size is not None and channels is not None
    with ThreadPoolExecutor(cfg.workers) as pool:
        window = 2 * cfg.workers  # decode ahead a little, but never hold the whole dataset in memory
        items = layout.videos
        futures = [pool.submit(decode_item, src, it, size, channels, on_frames) for it in items[:window]]
        for i, item in enumerate(items):
            dec = futures[i].result()
            if i + window < len(items):
                futures.append(pool.submit(decode_item, src, items[i + window], size, channels, on_frames))
            if len(dec.frames) < cfg.min_length:
                raise VgisganError(
                    f"{src.describe(item.origin)} has {len(dec.frames)} frames, fewer than the {cfg.min_length} "
                    "that later stages need per clip: remove it or lower --min-length"
                )
            labels = _labels_for(item, len(dec.frames), str(src.location)) if item.split == "test" else None
            info = VideoInfo(item.name, 0, 0, dec.fps, dec.source_size, item.origin)
            writer.add(item.split, info, dec.frames, labels)


def _write_synthetic(cfg: PrepareConfig, writer: CacheWriter, progress: Progress) -> None:
    from vgisgan.data.decode import convert
    from vgisgan.data.synthetic import make_dataset

    train, test = make_dataset(cfg.synthetic)
    assert cfg.size is not None and cfg.channels is not None
    total, done = sum(len(v.frames) for v in train + test), 0
    for split, videos in (("train", train), ("test", test)):
        for v in videos:
            frames = np.stack([convert(f[..., ::-1], cfg.size, cfg.channels) for f in v.frames])
            writer.add(split, VideoInfo(v.name, 0, 0, 25.0, frames.shape[1:3], "synthetic"), frames, v.labels)
            done += len(frames)
            progress("generate", done, total)


def _summary(writer: CacheWriter, layout_name: str, notes: list[str]) -> dict:
    counts = {}
    labels = np.concatenate(writer.labels) if writer.any_labels else None
    for split, vids in writer.videos.items():
        counts[split] = {"videos": len(vids), "frames": sum(v.length for v in vids)}
    counts["test"]["abnormal_frames"] = int(labels.sum()) if labels is not None else None
    size_bytes = sum(p.stat().st_size for p in writer.folder.iterdir() if p.is_file())
    return {"layout": layout_name, **counts, "bytes": size_bytes, "notes": notes}


def run(
    cfg: PrepareConfig,
    store: Store,
    name: str | None = None,
    data_dirs: list[Path] | None = None,
    force: bool = False,
    progress: Progress = silent,
    notes: Notes = no_notes,
) -> StageResult:
    name = name or cfg.dataset
    src = None if cfg.dataset == "synthetic" else open_source(find_source(cfg, data_dirs or []))
    try:
        if src is not None:
            cfg = cfg.model_copy(update={"source": str(src.location.resolve())})
        config = cfg.model_dump(mode="json")
        key = run_hash("frames", config, [], _fingerprint(src) if src else None)
        reused = try_reuse(store, "frames", name, key, force, notes)
        if reused:
            return reused
        layout = detect_layout(src, cfg.dataset, cfg.labels) if src else None
        if layout:
            notes(
                f"found the {layout.name} layout in {src.location}: {len(layout.split('train'))} training and "
                f"{len(layout.split('test'))} test videos"
            )
            for n in layout.notes:
                notes(n)
        assert cfg.size is not None and cfg.channels is not None
        t0 = time.perf_counter()
        with store.draft("frames", name) as draft:
            writer = CacheWriter(draft.path, cfg.size, cfg.channels, cfg.storage)
            try:
                if src is not None and layout is not None:
                    _write_layout(src, layout, cfg, writer, progress)
                else:
                    _write_synthetic(cfg, writer, progress)
            except BaseException:
                writer.abort()
                raise
            writer.close()
            summary = _summary(writer, layout.name if layout else "synthetic", layout.notes if layout else [])
            summary["seconds"] = round(time.perf_counter() - t0, 1)
            art = draft.publish(config, [], summary, key)
        return StageResult(art, reused=False)
    finally:
        if src is not None:
            src.close()
