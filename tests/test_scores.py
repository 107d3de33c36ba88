"""scores.csv: what evaluate writes reads back as the same table, keyed by (video, frame)."""

from __future__ import annotations

import numpy as np

from vgisgan.scores import COLUMNS, available_scores, read_scores, write_scores


def test_scores_csv_reads_back_what_was_written(tmp_path):
    table = {
        "video": np.array(["01", "01", "02"], dtype=object),
        "frame": np.array([4, 5, 4]),
        "label": np.array([0, 1, 1]),
        "psnr": np.array([31.25, 27.5, 26.0]),
        "score_psnr": np.array([-31.25, -27.5, -26.0]),
        "score_detector": np.array([-6.5, 1.125, 2.0], dtype=np.float32),
        "score_combined": None,  # e.g. a GAN-only evaluation writes no detector or combined score
    }
    write_scores(table, tmp_path / "scores.csv")
    assert (tmp_path / "scores.csv").read_text().splitlines()[0] == ",".join(COLUMNS)
    back = read_scores(tmp_path / "scores.csv")
    assert back["video"].tolist() == ["01", "01", "02"] and back["frame"].dtype == np.int64
    for col in ("frame", "label", "psnr", "score_psnr", "score_detector"):
        assert np.array_equal(back[col], table[col]), col
    assert back["score_combined"] is None and available_scores(back) == ["score_psnr", "score_detector"]


def test_a_table_without_labels_reads_back_without_them(tmp_path):
    path = tmp_path / "scores.csv"
    path.write_text(",".join(COLUMNS) + "\n01,4,,30,-30,,\n01,5,,20,-20,,\n")
    back = read_scores(path)
    assert back["label"] is None and back["score_detector"] is None
    assert np.array_equal(back["score_psnr"], [-30.0, -20.0])
