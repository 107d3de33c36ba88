"""benchmarks/cell_fusion.py: the scoring candidates it measures, checked against values computed by hand."""

from __future__ import annotations

import numpy as np
import torch
from conftest import load_benchmark

from vgisgan.metrics import combine, logit, standardize


def test_window_error_is_the_mean_squared_error_around_each_cell():
    script = load_benchmark("cell_fusion")
    target = torch.zeros(1, 1, 8, 8)
    prediction = target.clone()
    prediction[0, 0, :4, :4] = 2.0  # an error of 1 on the [0, 1] scale in the top-left quarter only
    err = script.window_error(prediction, target, (2, 2))  # cells of 4x4, windows of 8x8 padded by 2
    assert err.shape == (1, 2, 2)
    # top-left cell: its window covers rows and columns 0..5 of the frame, 16 of its 36 pixels in error
    assert torch.allclose(err[0, 0, 0], torch.log10(torch.tensor(16 / 36)))
    # the opposite cell's window covers rows and columns 2..7: 4 of its 36 pixels in error
    assert torch.allclose(err[0, 1, 1], torch.log10(torch.tensor(4 / 36)))


def test_the_candidates_are_built_from_the_same_cells_as_the_detector():
    script = load_benchmark("cell_fusion")
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 2, 2, 2)) * 10  # (N, M, h, w), some far beyond the sigmoid's float range
    table = {"psnr": rng.normal(30, 2, 6), "logits": logits, "errors": rng.normal(size=(6, 2, 2))}
    out = script.candidate_scores(table)
    frame_logit = logits.max(axis=(2, 3)).mean(axis=1)
    assert np.allclose(out["D: detector (logit)"], frame_logit)
    assert np.allclose(out["detector (P)"], 1 / (1 + np.exp(-frame_logit)))
    assert np.allclose(
        out["D2: combined (raw logit)"], 0.5 * standardize(-table["psnr"]) + 0.5 * standardize(frame_logit)
    )
    assert np.allclose(
        out["combined (before 0.16.0)"], combine(-table["psnr"], logit(out["detector (P)"]), 0.5, fusion="linear")
    )
    # frames beyond float32's sigmoid tie in the old score and not in the raw logit, so the two must differ
    assert frame_logit.max() > 17 and not np.allclose(out["combined (before 0.16.0)"], out["D2: combined (raw logit)"])
    z = (logits - logits.mean()) / logits.std() + ((table["errors"] - table["errors"].mean()) / table["errors"].std())[
        :, None
    ]
    assert np.allclose(
        out["K: cell fusion"], 0.5 * standardize(-table["psnr"]) + 0.5 * standardize(z.max(axis=(2, 3)).mean(1))
    )
