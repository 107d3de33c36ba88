"""The pseudo-anomaly makers that need no network, on frames whose content is known exactly."""

import numpy as np

from vgisgan.data.cache import CacheWriter, FrameCache, VideoInfo
from vgisgan.data.clips import ClipSampler
from vgisgan.methods import busiest_window, fast_forward, local_skip, pasts, real_targets
from vgisgan.store import Store


def moving_square_cache(store: Store) -> FrameCache:
    """One training video of 20 frames, 32x32: a static gradient, and a bright 4x4 square moving 1 px a frame."""
    frames = np.tile(np.arange(32, dtype=np.uint8)[None, None, :, None] * 2, (20, 32, 1, 1))  # (T, H, W, 1)
    for t in range(20):
        frames[t, 10:14, 4 + t : 8 + t] = 250
    with store.draft("frames", "square") as d:
        w = CacheWriter(d.path, (32, 32), 1, "raw")
        w.add("train", VideoInfo("a", 0, 0, 25.0, (32, 32), "x"), frames, None)
        w.close()
        return FrameCache(d.publish({}, [], {}, "f").path)


def test_busiest_window_finds_the_largest_sum():
    diff = np.zeros((10, 12))
    diff[6:8, 3:5] = 1
    diff[0, 11] = 1.5  # a bigger single pixel, but a smaller 3x3 sum than the block
    assert busiest_window(diff, 3, 3) == (5, 2)  # the first window holding the whole block


def test_local_skip_moves_only_the_patch_that_holds_the_moving_thing(tmp_path):
    cache = moving_square_cache(Store(tmp_path))
    t_past, skip = 4, 3
    sampler = ClipSampler(cache, "train", t_past + skip, seed=0)
    batch = local_skip(sampler, 8, t_past, frac=0.25)  # 8x8 patches
    for (v, f), pseudo in zip(batch.rows, batch.pseudo):
        real, ahead = cache.clip("train", int(v), int(f), 1)[0], cache.clip("train", int(v), int(f) + skip - 1, 1)[0]
        changed = np.argwhere((pseudo != real).any(axis=2))
        assert len(changed) > 0
        (y0, x0), (y1, x1) = changed.min(0), changed.max(0)
        assert y1 - y0 < 8 and x1 - x0 < 8  # one patch
        assert (pseudo[y0 : y1 + 1, x0 : x1 + 1] == ahead[y0 : y1 + 1, x0 : x1 + 1]).all()  # from `skip` steps on
        assert (ahead[10:14, x0 : x1 + 1] == 250).any()  # and it holds the square where it has run ahead


def test_fast_forward_plays_the_past_and_the_candidate_at_the_stride(tmp_path):
    cache = moving_square_cache(Store(tmp_path))
    t_past, skip = 4, 2
    sampler = ClipSampler(cache, "train", t_past * skip + 1, seed=0)
    batch = fast_forward(sampler, 6, t_past, skip)
    assert batch.stride == skip
    strides = np.full(len(batch.rows), skip)
    assert (batch.pseudo == real_targets(cache, batch.rows)).all()  # the candidate is the real frame at its row
    for (_, f), past in zip(batch.rows, pasts(cache, batch.rows, t_past, strides)):
        # The square's left edge is at x = 4 + t in frame t: the past frames are f-8, f-6, f-4, f-2.
        lefts = [int(np.argmax(frame[11].numpy() > 0.9)) for frame in past]  # (T*C, H, W): row 11 crosses it
        assert lefts == [4 + int(f) - skip * (t_past - i) for i in range(t_past)]
    # What a normal clip would show after that past: the frame right after its last past frame.
    after = real_targets(cache, batch.rows, strides)
    assert all((a == cache.clip("train", int(v), int(f) - 1, 1)[0]).all() for a, (v, f) in zip(after, batch.rows))
