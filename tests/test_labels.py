import io

import numpy as np
import pytest
from scipy.io import savemat

from vgisgan.data.labels import parse_avenue_masks, parse_mat_gt, parse_range_csv, parse_ucsd_m, ranges_to_labels
from vgisgan.data.layout_writer import label_ranges
from vgisgan.errors import VgisganError


def _mat(**arrays) -> bytes:
    buf = io.BytesIO()
    savemat(buf, arrays)
    return buf.getvalue()


def test_ucsd_m_single_and_multi_range():
    text = """TestVideoFile = {};
% comment line
TestVideoFile{end+1}.gt_frame = [61:180];
TestVideoFile{end+1}.gt_frame = [5:90, 140:200];
TestVideoFile{end+1}.gt_frame = [1:10,20:25 , 30 : 31];
"""
    assert parse_ucsd_m(text, "x.m") == [[(61, 180)], [(5, 90), (140, 200)], [(1, 10), (20, 25), (30, 31)]]


def test_ucsd_m_without_ranges_is_an_error():
    with pytest.raises(VgisganError, match="no `gt_frame"):
        parse_ucsd_m("nothing here", "x.m")


def test_mat_gt_with_one_and_several_ranges():
    gt = np.empty((1, 3), dtype=object)
    gt[0, 0] = np.array([[61], [180]])
    gt[0, 1] = np.array([[5, 140], [90, 200]])  # two ranges: [5, 90] and [140, 200]
    gt[0, 2] = np.array([[1], [146]], dtype=np.uint8)
    assert parse_mat_gt(_mat(gt=gt), "g.mat") == [[(61, 180)], [(5, 90), (140, 200)], [(1, 146)]]


def test_mat_without_gt_names_what_it_found():
    with pytest.raises(VgisganError, match="no variable 'gt'.*labels"):
        parse_mat_gt(_mat(labels=np.zeros(3)), "g.mat")


def test_ranges_to_labels_is_one_based_inclusive():
    assert ranges_to_labels([(2, 3), (5, 5)], 6, "w").tolist() == [0, 1, 1, 0, 1, 0]
    with pytest.raises(VgisganError, match="does not fit a video of 6 frames"):
        ranges_to_labels([(4, 7)], 6, "w")


def test_label_ranges_inverts_ranges_to_labels():
    labels = np.array([1, 1, 0, 0, 1, 0, 1])
    assert label_ranges(labels) == [(1, 2), (5, 5), (7, 7)]
    assert (ranges_to_labels(label_ranges(labels), 7, "w") == labels).all()


def test_avenue_masks_any_pixel_makes_a_frame_abnormal():
    vol = np.empty((1, 3), dtype=object)
    vol[0, 0] = np.zeros((4, 4), np.uint8)
    vol[0, 1] = np.zeros((4, 4), np.uint8)
    vol[0, 1][2, 3] = 1
    vol[0, 2] = np.ones((4, 4), np.uint8)
    assert parse_avenue_masks(_mat(volLabel=vol), "1_label.mat").tolist() == [0, 1, 1]


def test_range_csv():
    text = "video,start,end\na,1,3\na,7,8\nb,2,2\n"
    assert parse_range_csv(text, "l.csv") == {"a": [(1, 3), (7, 8)], "b": [(2, 2)]}
    with pytest.raises(VgisganError, match="header video,start,end"):
        parse_range_csv("v,s,e\n", "l.csv")
    with pytest.raises(VgisganError, match="line 2"):
        parse_range_csv("video,start,end\na,x,3\n", "l.csv")
