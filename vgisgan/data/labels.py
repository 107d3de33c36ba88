"""Parsers for the label formats the datasets ship. All return per-frame 0/1 arrays or 1-based ranges."""

from __future__ import annotations

import csv
import io
import re

import numpy as np

from vgisgan.errors import VgisganError

Ranges = list[tuple[int, int]]  # 1-based, inclusive [start, end] frame ranges


def ranges_to_labels(ranges: Ranges, length: int, where: str) -> np.ndarray:
    labels = np.zeros(length, np.uint8)
    for start, end in ranges:
        if not 1 <= start <= end <= length:
            raise VgisganError(
                f"{where}: abnormal range [{start}, {end}] does not fit a video of {length} frames "
                "(ranges are 1-based and inclusive): are the labels for this dataset?"
            )
        labels[start - 1 : end] = 1
    return labels


def _loadmat(data: bytes, where: str) -> dict:
    from scipy.io import loadmat

    try:
        return loadmat(io.BytesIO(data))
    except (ValueError, NotImplementedError, OSError) as e:
        raise VgisganError(f"{where} is not a MATLAB file scipy can read ({e})") from e


def parse_mat_gt(data: bytes, where: str) -> list[Ranges]:
    """`<dataset>.mat` with variable `gt`: per test video a 2xK array of [start; end] ranges."""
    mat = _loadmat(data, where)
    if "gt" not in mat:
        raise VgisganError(f"{where} has no variable 'gt' (found: {', '.join(k for k in mat if k[0] != '_')})")
    out = []
    for cell in np.asarray(mat["gt"], dtype=object).ravel():
        arr = np.asarray(cell, dtype=np.int64)
        if arr.size == 0:
            out.append([])
            continue
        if arr.ndim != 2 or arr.shape[0] != 2:
            raise VgisganError(f"{where}: each gt entry must be a 2xK array of [start; end], got shape {arr.shape}")
        out.append([(int(s), int(e)) for s, e in arr.T])
    return out


def parse_ucsd_m(text: str, where: str) -> list[Ranges]:
    """`UCSDpedN.m`: lines `TestVideoFile{end+1}.gt_frame = [61:180];`, possibly `[5:90, 140:200]`."""
    out = []
    for line in text.splitlines():
        m = re.search(r"gt_frame\s*=\s*\[([^\]]*)\]", line)
        if m:
            ranges = [(int(a), int(b)) for a, b in re.findall(r"(\d+)\s*:\s*(\d+)", m.group(1))]
            if not ranges and m.group(1).strip():
                raise VgisganError(f"{where}: cannot read the frame ranges in {line.strip()!r}")
            out.append(ranges)
    if not out:
        raise VgisganError(f"{where} has no `gt_frame = [...]` lines: is it the UCSD label file?")
    return out


def parse_avenue_masks(data: bytes, where: str) -> np.ndarray:
    """Avenue's `<n>_label.mat`: `volLabel`, one pixel mask per frame; a frame with any pixel set is abnormal."""
    mat = _loadmat(data, where)
    if "volLabel" not in mat:
        raise VgisganError(f"{where} has no variable 'volLabel': is it an Avenue testing_label_mask file?")
    masks = np.asarray(mat["volLabel"], dtype=object).ravel()
    return np.array([int(np.asarray(m).any()) for m in masks], np.uint8)


def parse_range_csv(text: str, where: str) -> dict[str, Ranges]:
    """A CSV with header `video,start,end` (1-based, inclusive); several rows per video allowed."""
    reader = csv.DictReader(io.StringIO(text))
    if reader.fieldnames is None or not {"video", "start", "end"} <= set(reader.fieldnames):
        raise VgisganError(f"{where} must have the header video,start,end")
    out: dict[str, Ranges] = {}
    for i, row in enumerate(reader, start=2):
        try:
            rng = (int(row["start"]), int(row["end"]))
        except (TypeError, ValueError) as e:
            raise VgisganError(f"{where} line {i}: start and end must be whole numbers") from e
        out.setdefault(row["video"].strip(), []).append(rng)
    return out
