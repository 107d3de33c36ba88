"""Units of the methods trained inside `generate`, checked against values computed by hand."""

import math

import torch

from vgisgan.trained_methods import brightness_kl, convae_error


def test_brightness_kl_by_hand():
    frame = torch.tensor([0.75, 0.25]).view(1, 1, 1, 2)  # P = (0.75, 0.25)
    recon = torch.tensor([0.5, 0.5]).view(1, 1, 1, 2)  # Q = (0.5, 0.5)
    expected = 0.75 * math.log(0.75 / 0.5) + 0.25 * math.log(0.25 / 0.5)
    assert math.isclose(brightness_kl(recon, frame, eps=0).item(), expected, rel_tol=1e-6)


def test_brightness_kl_is_zero_for_the_same_picture_at_another_brightness():
    frame = torch.rand(2, 1, 8, 8)
    assert brightness_kl(frame, frame).item() == 0
    assert abs(brightness_kl(0.5 * frame, frame, eps=0).item()) < 1e-6
    assert brightness_kl(frame.flip(-1), frame).item() > 0


def test_convae_error_adds_the_kl_term_on_the_unit_scale():
    frame, recon = torch.zeros(1, 1, 2, 2), torch.full((1, 1, 2, 2), 0.5)  # [-1, 1] frames: 0 is mid-grey
    mse = convae_error(recon, frame, unit=False, kind="mse")
    assert math.isclose(mse.item(), 0.25**2, rel_tol=1e-6)  # differences of 0.5 on [-1, 1] are 0.25 on [0, 1]
    with_kl = convae_error(recon, frame, unit=False, kind="mse-kl")
    kl = brightness_kl((recon + 1) / 2, (frame + 1) / 2)
    assert math.isclose(with_kl.item(), mse.item() + kl.item(), rel_tol=1e-6)
    assert kl.item() == 0  # a uniform brightening keeps the distribution over pixels
