"""prepare on every layout (written by the synthetic generator), archives, and every bad-input case."""

import json
import shutil
import tarfile
import zipfile

import cv2
import numpy as np
import pytest
from conftest import PED2, invoke

from vgisgan.data.cache import FrameCache
from vgisgan.data.layout_writer import write_layout
from vgisgan.store import Store

DATASET_FOR = {"frames": "ped2", "ucsd": "ped2", "avenue": "avenue", "shanghaitech": "shanghaitech", "folder": "folder"}


def _prepare(src, dataset, store, *extra):
    return invoke("prepare", dataset, "--source", src, "--size", "32x32", "--store", store, *extra)


@pytest.mark.parametrize("layout", list(DATASET_FOR))
def test_every_layout_gives_the_same_frames_and_labels(layout, tiny_videos, tmp_path):
    train, test = tiny_videos
    src = write_layout(layout, tmp_path / "src", train, test, dataset=DATASET_FOR[layout])
    r = _prepare(src, DATASET_FOR[layout], tmp_path / "st", "--channels", 1)
    assert r.exit_code == 0, r.output
    art = Store(tmp_path / "st").resolve(None, "frames")
    s = art.manifest.summary
    assert s["layout"] == layout
    assert (s["train"]["videos"], s["test"]["videos"]) == (3, 2)
    assert s["train"]["frames"] == s["test"]["frames"] // 2 * 3 == 72
    assert s["test"]["abnormal_frames"] == int(sum(v.labels.sum() for v in test))
    cache = FrameCache(art.path)
    for i, v in enumerate(test):
        assert (cache.labels(i) == v.labels).all()
    # Lossy codecs (JPEG, MJPG) change pixels a little; the content must still match the generator's.
    gray = cv2.cvtColor(test[0].frames[5], cv2.COLOR_RGB2GRAY).astype(float)
    assert np.abs(cache.clip("test", 0, 5, 1)[0, ..., 0] - gray).mean() < 6


@pytest.mark.parametrize("suffix", [".zip", ".tar.gz"])
def test_archives_are_read_without_unpacking(suffix, tiny_videos, tmp_path):
    src = write_layout("frames", tmp_path / "ds", *tiny_videos, dataset="ped2")
    archive = tmp_path / f"ped2{suffix}"
    if suffix == ".zip":
        with zipfile.ZipFile(archive, "w") as z:
            for p in src.rglob("*"):
                z.write(p, "ped2/" + p.relative_to(src).as_posix())
    else:
        with tarfile.open(archive, "w:gz") as t:
            t.add(src, arcname="ped2")
    r = _prepare(archive, "ped2", tmp_path / "st")
    assert r.exit_code == 0, r.output
    assert "72 frames" in r.output


def test_compressed_storage_reads_the_same_clips(tiny_videos, tmp_path):
    src = write_layout("frames", tmp_path / "ds", *tiny_videos, dataset="ped2")
    assert _prepare(src, "ped2", tmp_path / "raw").exit_code == 0
    assert _prepare(src, "ped2", tmp_path / "zip", "--storage", "compressed").exit_code == 0
    raw = FrameCache(Store(tmp_path / "raw").resolve(None, "frames").path)
    packed = FrameCache(Store(tmp_path / "zip").resolve(None, "frames").path)
    for start in (0, 10, 19):
        assert (raw.clip("train", 1, start, 5) == packed.clip("train", 1, start, 5)).all()


def _frames_src(tiny_videos, tmp_path):
    return write_layout("frames", tmp_path / "ds", *tiny_videos, dataset="ped2")


def _assert_rejected(r, store, *needles):
    assert r.exit_code == 2, r.output
    for n in needles:
        assert n in r.output, (n, r.output)
    assert not (store / "frames").exists() or not any((store / "frames").rglob("manifest.json"))


def test_label_count_mismatch(tiny_videos, tmp_path):
    src = _frames_src(tiny_videos, tmp_path)
    shutil.rmtree(src / "testing/frames/02")
    _assert_rejected(_prepare(src, "ped2", tmp_path / "st"), tmp_path / "st", "labels for 2 test videos but 1")


def test_label_range_longer_than_video(tiny_videos, tmp_path):
    src = _frames_src(tiny_videos, tmp_path)
    for f in sorted((src / "testing/frames/01").iterdir())[12:]:
        f.unlink()
    _assert_rejected(_prepare(src, "ped2", tmp_path / "st"), tmp_path / "st", "does not fit a video of 12 frames")


def test_corrupt_frame_is_named(tiny_videos, tmp_path):
    src = _frames_src(tiny_videos, tmp_path)
    bad = src / "training/frames/02/007.jpg"
    bad.write_bytes(b"not a jpeg")
    _assert_rejected(_prepare(src, "ped2", tmp_path / "st"), tmp_path / "st", "007.jpg", "not a readable image")


def test_mixed_frame_sizes_in_one_video(tiny_videos, tmp_path):
    src = _frames_src(tiny_videos, tmp_path)
    cv2.imwrite(str(src / "training/frames/01/003.jpg"), np.zeros((20, 30, 3), np.uint8))
    _assert_rejected(_prepare(src, "ped2", tmp_path / "st"), tmp_path / "st", "003.jpg", "share one size")


def test_video_shorter_than_clip_length(tiny_videos, tmp_path):
    src = _frames_src(tiny_videos, tmp_path)
    for f in sorted((src / "training/frames/03").iterdir())[3:]:
        f.unlink()
    _assert_rejected(_prepare(src, "ped2", tmp_path / "st"), tmp_path / "st", "has 3 frames, fewer than the 5")


def test_empty_video_file(tiny_videos, tmp_path):
    src = write_layout("avenue", tmp_path / "ds", *tiny_videos)
    (src / "training_videos/02.avi").write_bytes(b"")
    _assert_rejected(_prepare(src, "avenue", tmp_path / "st"), tmp_path / "st", "02.avi")


def test_archive_that_is_not_the_dataset(tmp_path):
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("holiday/img1.jpg", b"x")
    _assert_rejected(
        _prepare(archive, "ped2", tmp_path / "st"), tmp_path / "st", "does not hold ped2 in a known layout"
    )


def test_broken_archive(tmp_path):
    archive = tmp_path / "ped2.zip"
    archive.write_bytes(b"PK garbage")
    _assert_rejected(_prepare(archive, "ped2", tmp_path / "st"), tmp_path / "st", "not a readable archive")


def test_folder_without_labels_still_prepares(tiny_videos, tmp_path):
    src = write_layout("folder", tmp_path / "ds", *tiny_videos)
    (src / "labels.csv").unlink()
    r = _prepare(src, "folder", tmp_path / "st")
    assert r.exit_code == 0 and "no labels" in r.output


def test_synth_command_writes_a_layout(tmp_path):
    r = invoke(
        "synth",
        "--layout",
        "ucsd",
        "--out",
        tmp_path / "u",
        "--size",
        32,
        "--train-videos",
        2,
        "--test-videos",
        2,
        "--length",
        12,
    )
    assert r.exit_code == 0, r.output
    assert (tmp_path / "u/UCSDped2/Test/UCSDped2.m").exists()
    assert _prepare(tmp_path / "u", "ped2", tmp_path / "st").exit_code == 0


@pytest.mark.skipif(not PED2.is_dir(), reason=f"real UCSD Ped2 not found at {PED2} (../shared/datasets/ped2)")
def test_real_ped2_counts(tmp_path):
    r = invoke("prepare", "ped2", "--source", PED2, "--size", "32x48", "--store", tmp_path)
    assert r.exit_code == 0, r.output
    s = json.loads((tmp_path / "frames/ped2/v1/manifest.json").read_text())["summary"]
    assert (s["train"]["videos"], s["train"]["frames"]) == (16, 2550)
    assert (s["test"]["videos"], s["test"]["frames"], s["test"]["abnormal_frames"]) == (12, 2010, 1648)
