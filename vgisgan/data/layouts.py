"""Recognise a dataset's on-disk layout and list its videos, in order, with their labels.

Layouts (docs/datasets.md has the trees):
  frames        training/frames/<video>/<n>.jpg, testing/frames/<video>/..., <dataset>.mat or frame_labels_<dataset>.npy
  ucsd          UCSDpedN/Train/TrainNNN/*.tif, UCSDpedN/Test/TestNNN/*.tif, UCSDpedN/Test/UCSDpedN.m
  avenue        training_videos/NN.avi, testing_videos/NN.avi, ground_truth_demo/testing_label_mask/<n>_label.mat
  shanghaitech  training/videos/*.avi, testing/frames/<video>/*.jpg, testing/test_frame_mask/<video>.npy
  folder        train/ and test/ holding videos or frame folders, labels.csv (video,start,end) optional
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from vgisgan.data import labels as lab
from vgisgan.data.source import Source
from vgisgan.errors import VgisganError

IMAGE_EXT = (".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp")
VIDEO_EXT = (".avi", ".mp4", ".mov", ".mkv", ".mpg")
ACCEPTED = {
    "ped1": ("frames", "ucsd"),
    "ped2": ("frames", "ucsd"),
    "avenue": ("frames", "avenue"),
    "shanghaitech": ("frames", "shanghaitech"),
    "folder": ("folder",),
}
DOWNLOAD = {
    "ped1": "http://www.svcl.ucsd.edu/projects/anomaly/dataset.htm",
    "ped2": "http://www.svcl.ucsd.edu/projects/anomaly/dataset.htm",
    "avenue": "http://www.cse.cuhk.edu.hk/leojia/projects/detectabnormal/dataset.html",
    "shanghaitech": "https://svip-lab.github.io/dataset/campus_dataset.html",
    "folder": "your own videos under train/ and test/",
}

Labels = lab.Ranges | np.ndarray | None  # ranges, or one 0/1 per frame, or unknown


@dataclass
class VideoItem:
    split: str  # "train" or "test"
    name: str
    frames: list[str] = field(default_factory=list)  # image files in order, or empty for a video file
    video: str | None = None
    labels: Labels = None

    @property
    def origin(self) -> str:
        return self.video or (self.frames[0].rsplit("/", 1)[0] if self.frames else self.name)


@dataclass
class Layout:
    name: str
    root: str
    videos: list[VideoItem]
    notes: list[str] = field(default_factory=list)

    def split(self, split: str) -> list[VideoItem]:
        return [v for v in self.videos if v.split == split]


def natural_key(path: str) -> list:
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path)]


def _frame_folders(files: list[str], prefix: str) -> dict[str, list[str]]:
    """Images directly inside <prefix><video>/, grouped by video folder, naturally sorted."""
    groups: dict[str, list[str]] = defaultdict(list)
    for f in files:
        if f.startswith(prefix) and f.lower().endswith(IMAGE_EXT):
            parts = f[len(prefix) :].split("/")
            if len(parts) == 2:
                groups[parts[0]].append(f)
    return {k: sorted(v, key=natural_key) for k, v in sorted(groups.items(), key=lambda kv: natural_key(kv[0]))}


def _videos_in(files: list[str], prefix: str) -> list[str]:
    return sorted(
        (f for f in files if f.startswith(prefix) and "/" not in f[len(prefix) :] and f.lower().endswith(VIDEO_EXT)),
        key=natural_key,
    )


def _stem(path: str) -> str:
    return path.rsplit("/", 1)[-1].rsplit(".", 1)[0]


def _find_root(files: list[str], marker: str) -> str | None:
    """The prefix before the first occurrence of `marker` (a path fragment) in any file path."""
    for f in files:
        i = ("/" + f).find("/" + marker)
        if i >= 0:
            return f[:i]
    return None


def _attach_ranges(items: list[VideoItem], ranges: list[lab.Ranges], where: str) -> None:
    if len(ranges) != len(items):
        raise VgisganError(
            f"{where} has labels for {len(ranges)} test videos but {len(items)} were found: "
            "the labels do not belong to these videos"
        )
    for item, r in zip(items, ranges):
        item.labels = r


def _parse_frames(src: Source, files: list[str], dataset: str) -> Layout | None:
    root = _find_root(files, "training/frames/")
    if root is None or _find_root(files, "testing/frames/") != root:
        return None
    train = [VideoItem("train", k, v) for k, v in _frame_folders(files, root + "training/frames/").items()]
    test = [VideoItem("test", k, v) for k, v in _frame_folders(files, root + "testing/frames/").items()]
    layout = Layout("frames", root, train + test)
    mats = [f for f in files if f.startswith(root) and "/" not in f[len(root) :] and f.endswith(".mat")]
    npy = root + f"frame_labels_{dataset}.npy"
    mat = root + f"{dataset}.mat" if root + f"{dataset}.mat" in mats else (mats[0] if len(mats) == 1 else None)
    if mat:
        _attach_ranges(test, lab.parse_mat_gt(src.read_bytes(mat), src.describe(mat)), src.describe(mat))
    elif npy in files:
        flat = np.load(io.BytesIO(src.read_bytes(npy)), allow_pickle=False).ravel().astype(np.uint8)
        lengths = [len(v.frames) for v in test]
        if flat.size != sum(lengths):
            raise VgisganError(
                f"{src.describe(npy)} has {flat.size} labels but the test videos have {sum(lengths)} frames"
            )
        for v, part in zip(test, np.split(flat, np.cumsum(lengths)[:-1])):
            v.labels = part
    else:
        layout.notes.append(f"no {dataset}.mat or frame_labels_{dataset}.npy found: the test split has no labels")
    return layout


def _parse_ucsd(src: Source, files: list[str], dataset: str) -> Layout | None:
    m = next((re.match(r"^(.*?)(UCSDped\d)/Train/", f) for f in files if re.match(r"^(.*?)UCSDped\d/Train/", f)), None)
    if m is None:
        return None
    root = m.group(1) + m.group(2) + "/"
    groups = {k: v for k, v in _frame_folders(files, root + "Train/").items() if not k.endswith("_gt")}
    train = [VideoItem("train", k, v) for k, v in groups.items()]
    groups = {k: v for k, v in _frame_folders(files, root + "Test/").items() if not k.endswith("_gt")}
    test = [VideoItem("test", k, v) for k, v in groups.items()]
    layout = Layout("ucsd", root, train + test)
    mfiles = [f for f in files if f.startswith(root + "Test/") and f.endswith(".m")]
    if mfiles:
        where = src.describe(mfiles[0])
        _attach_ranges(test, lab.parse_ucsd_m(src.read_bytes(mfiles[0]).decode("latin-1"), where), where)
    else:
        layout.notes.append(f"no {m.group(2)}.m label file found in Test/: the test split has no labels")
    return layout


def _parse_avenue(src: Source, files: list[str], dataset: str) -> Layout | None:
    root = _find_root(files, "training_videos/")
    if root is None:
        return None
    train = [VideoItem("train", _stem(f), video=f) for f in _videos_in(files, root + "training_videos/")]
    test = [VideoItem("test", _stem(f), video=f) for f in _videos_in(files, root + "testing_videos/")]
    layout = Layout("avenue", root, train + test)
    mask_dir = root + "ground_truth_demo/testing_label_mask/"
    masks = {_stem(f).split("_")[0]: f for f in files if f.startswith(mask_dir) and f.endswith("_label.mat")}
    if not masks:
        layout.notes.append(f"no label masks in {mask_dir}: the test split has no labels")
        return layout
    for v in test:
        key = str(int(v.name)) if v.name.isdigit() else v.name
        if key not in masks:
            raise VgisganError(f"{src.describe(mask_dir)} has no {key}_label.mat for test video {v.video}")
        v.labels = lab.parse_avenue_masks(src.read_bytes(masks[key]), src.describe(masks[key]))
    return layout


def _parse_shanghaitech(src: Source, files: list[str], dataset: str) -> Layout | None:
    root = _find_root(files, "training/videos/")
    if root is None:
        return None
    train = [VideoItem("train", _stem(f), video=f) for f in _videos_in(files, root + "training/videos/")]
    test = [VideoItem("test", k, v) for k, v in _frame_folders(files, root + "testing/frames/").items()]
    layout = Layout("shanghaitech", root, train + test)
    mask_dir = root + "testing/test_frame_mask/"
    for v in test:
        f = mask_dir + v.name + ".npy"
        if f not in files:
            layout.notes.append(f"no {mask_dir}<video>.npy labels for every test video: the test split has no labels")
            for w in test:
                w.labels = None
            break
        v.labels = np.load(io.BytesIO(src.read_bytes(f)), allow_pickle=False).ravel().astype(np.uint8)
    return layout


def _parse_folder(src: Source, files: list[str], dataset: str, labels_csv: str | None = None) -> Layout | None:
    root = _find_root(files, "train/")
    if root is None:
        return None
    items = []
    for split, sub in (("train", "train/"), ("test", "test/")):
        prefix = root + sub
        vids = [VideoItem(split, _stem(f), video=f) for f in _videos_in(files, prefix)]
        folders = [VideoItem(split, k, v) for k, v in _frame_folders(files, prefix).items()]
        items += sorted(vids + folders, key=lambda v: natural_key(v.name))
    layout = Layout("folder", root, items)
    csv_rel = root + "labels.csv"
    if labels_csv is not None:
        text, where = open(labels_csv, encoding="utf-8").read(), labels_csv
    elif csv_rel in files:
        text, where = src.read_bytes(csv_rel).decode("utf-8"), src.describe(csv_rel)
    else:
        layout.notes.append("no labels.csv: the test split has no labels, evaluate will give scores without AUC")
        return layout
    ranges = lab.parse_range_csv(text, where)
    test_names = {v.name for v in layout.split("test")}
    unknown = sorted(set(ranges) - test_names)
    if unknown:
        raise VgisganError(f"{where} names videos that are not in test/: {', '.join(unknown[:5])}")
    for v in layout.split("test"):
        v.labels = ranges.get(v.name, [])
    return layout


PARSERS = {
    "frames": _parse_frames,
    "ucsd": _parse_ucsd,
    "avenue": _parse_avenue,
    "shanghaitech": _parse_shanghaitech,
    "folder": _parse_folder,
}


def detect_layout(src: Source, dataset: str, labels_csv: str | None = None) -> Layout:
    files = src.files()
    for name in ACCEPTED[dataset]:
        layout = (
            _parse_folder(src, files, dataset, labels_csv) if name == "folder" else PARSERS[name](src, files, dataset)
        )
        if layout is not None:
            for split in ("train", "test"):
                if not layout.split(split):
                    raise VgisganError(
                        f"{src.location}: the {layout.name} layout was found but it has no {split} videos"
                    )
            return layout
    raise VgisganError(
        f"{src.location} does not hold {dataset} in a known layout (accepted: {', '.join(ACCEPTED[dataset])}; "
        f"see docs/datasets.md); get it from {DOWNLOAD[dataset]}"
    )
