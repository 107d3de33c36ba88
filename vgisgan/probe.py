"""A method-independent check of a detector, on held-out training videos only (no test data is touched).

A detector's own validation set is made of its method's pseudo-anomalies, so it measures how well the
detector learned that method, not whether it learned anything about anomalies: it reads 1.0 even for a
detector that keys on an artefact (a bent frame border) and fails on real video. The probe asks a question
that no method answers by construction: can the detector tell a real next frame from the frame `skip`
steps later (the whole scene moving too fast, Astrid et al., BMVC 2021), on training videos it never saw?
"""

from __future__ import annotations

import numpy as np

from vgisgan.data.cache import FrameCache
from vgisgan.data.clips import ClipSampler
from vgisgan.methods import skip_frame


def probe_rows(cache: FrameCache, videos: np.ndarray, t_past: int, skip: int, n: int, seed: int):
    """(rows, fast candidates) for n positions of the given training videos, or None where none fits."""
    sampler = ClipSampler(cache, "train", t_past + skip, seed, videos=[int(v) for v in videos])
    if len(sampler.starts) == 0:
        return None
    batch = skip_frame(sampler, n, t_past)
    return batch.rows, batch.pseudo
