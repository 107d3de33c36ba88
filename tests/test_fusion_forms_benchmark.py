"""benchmarks/fusion_forms.py: its forms by hand, and its linear and softplus sums equal to evaluate's."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import load_benchmark


def test_ranks_per_video_by_hand():
    forms = load_benchmark("fusion_forms")
    videos = np.array(["a", "a", "a", "b", "b"])
    scores = np.array([5.0, -1.0, 2.0, 7.0, 3.0])
    assert np.allclose(forms.ranks_per_video(scores, videos), [1.0, 0.0, 0.5, 1.0, 0.0])


def test_margins_of_the_linear_and_softplus_sums_are_fusion_pys():
    forms, fusion = load_benchmark("fusion_forms"), load_benchmark("fusion")
    rng = np.random.default_rng(3)
    labels = np.tile(np.r_[np.zeros(12), np.ones(12)], 3)
    table = {
        "video": np.repeat(["01", "02", "03"], 24),
        "label": labels,
        "score_psnr": rng.normal(size=72) + labels,
        "score_detector": rng.normal(size=72) * np.repeat([0.5, 1.0, 2.0], 24) + labels,
    }
    out = forms.margins(table)
    expected = fusion.fusion_aucs(table, [], [0.4], ["linear", "softplus"])
    assert out["psnr"] == expected["psnr"]
    assert out["linear 0.4"] == pytest.approx(expected["alpha 0.4 margin"])
    assert out["k 1 c 0 alpha 0.4"] == pytest.approx(expected["softplus 0.4 margin"])
    assert out["linear 0.4"] != out["k 1 c 0 alpha 0.4"]  # the two checks above would hold trivially on equal sums
