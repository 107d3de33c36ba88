"""train-gan --val-videos: held-out training videos, and the normal generator's PSNR on them in the log."""

import csv
import shutil

import pytest
import torch
from conftest import invoke
from safetensors.torch import load_file

from vgisgan.config import TrainGanConfig
from vgisgan.data.cache import FrameCache
from vgisgan.data.clips import ClipSampler
from vgisgan.gan import build_generator, split_clip
from vgisgan.stages import train_gan
from vgisgan.store import Store

SMALL = dict(batch_size=2, width=4, d_width=4, log_every=1, sample_every=100)


def _log(art) -> list[dict]:
    with open(art.path / "log.csv", newline="") as f:
        return list(csv.DictReader(f))


def test_held_out_psnr_is_logged_at_checkpoints_and_matches_the_published_generator(store_copy):
    cfg = TrainGanConfig(iters=4, checkpoint_every=2, val_videos=1, **SMALL)
    art = train_gan.run(cfg, Store(store_copy)).artifact
    rows = _log(art)
    assert [r["val_psnr_n"] != "" for r in rows] == [False, True, False, True]
    assert art.manifest.summary["val_psnr_n"] == pytest.approx(float(rows[-1]["val_psnr_n"]), abs=1e-3)

    # The same figure by hand: the published weights, in eval mode, on the 96 clips of the last video.
    cache = FrameCache(Store(store_copy).resolve("frames/synthetic", "frames").path)
    clips = ClipSampler(cache, "train", 5, train_gan.VAL_SEED, videos=[2]).sample(train_gan.VAL_CLIPS)
    g = build_generator(train_gan.model_config(cache, cfg))
    g.load_state_dict(load_file(str(art.path / "g_normal.safetensors")))
    past, _, target = split_clip(clips)
    with torch.no_grad():
        mse = ((g.eval()(past) - target) / 2).pow(2).flatten(1).mean(1)  # frames in [-1, 1], PSNR on [0, 1]
    assert art.manifest.summary["val_psnr_n"] == pytest.approx((10 * torch.log10(1 / mse)).mean().item(), abs=1e-3)


def test_held_out_videos_are_never_trained_on(store_copy, monkeypatch):
    drawn: dict[str, set] = {"train": set(), "val": set()}

    class Spy(ClipSampler):
        def indices(self, batch):
            rows = super().indices(batch)
            drawn["val" if self.generator.initial_seed() == train_gan.VAL_SEED else "train"].update(rows[:, 0])
            return rows

    monkeypatch.setattr(train_gan, "ClipSampler", Spy)
    train_gan.run(TrainGanConfig(iters=6, checkpoint_every=3, seed=5, val_videos=1, **SMALL), Store(store_copy))
    assert drawn == {"train": {0, 1}, "val": {2}}


def test_validating_does_not_change_the_trained_weights(frames_store, tmp_path):
    """Validation draws no random number and leaves BatchNorm's statistics alone: validating every 2
    iterations or only at the end trains the same weights."""
    weights = []
    for every in (2, 1000):
        store = tmp_path / str(every)
        shutil.copytree(frames_store, store)
        art = train_gan.run(TrainGanConfig(iters=4, checkpoint_every=every, val_videos=1, **SMALL), Store(store))
        weights.append(load_file(str(art.artifact.path / "g_normal.safetensors")))
    assert all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0])


def test_val_videos_cli_reports_the_figure_and_refuses_to_hold_out_every_video(store_copy):
    args = ("train-gan", "--iters", 2, "--width", 4, "--d-width", 4, "--batch-size", 2, "--store", store_copy)
    r = invoke(*args, "--val-videos", 3)
    assert r.exit_code == 2 and "has 3 training videos: --val-videos 3 would leave none" in r.output
    assert not (store_copy / ".work").exists()
    r = invoke(*args, "--val-videos", 2)
    assert r.exit_code == 0, r.output
    assert "held-out normal PSNR" in r.output
