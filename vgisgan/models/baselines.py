"""Networks of the thesis's other experiment lines: a convolutional autoencoder (after MNAD, without the
memory module) and a DCGAN. Both are plain modules; their training lives in `vgisgan/trained_methods.py`."""

from __future__ import annotations

import torch
from torch import nn


def _down(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 4, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.LeakyReLU(0.2, inplace=True),
    )


def _up(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.ConvTranspose2d(c_in, c_out, 4, stride=2, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class ConvAE(nn.Module):
    """(t_length - 1) frames stacked on channels -> the next frame; output range [-1, 1] or [0, 1]."""

    def __init__(self, in_channels: int, out_channels: int, width: int, unit_range: bool):
        super().__init__()
        w = width
        self.encoder = nn.Sequential(_down(in_channels, w), _down(w, 2 * w), _down(2 * w, 4 * w))
        self.decoder = nn.Sequential(_up(4 * w, 2 * w), _up(2 * w, w), nn.ConvTranspose2d(w, out_channels, 4, 2, 1))
        self.squash = nn.Sigmoid() if unit_range else nn.Tanh()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.squash(self.decoder(self.encoder(x)))  # (B, C, H, W)


class DCGenerator(nn.Module):
    """z (B, z_dim) -> a frame (B, C, H, W) in [-1, 1]; H = W = 4 * 2^k."""

    def __init__(self, z_dim: int, channels: int, size: int, width: int):
        super().__init__()
        n_up = (size // 4).bit_length() - 1
        c = width * 2 ** (n_up - 1)
        layers: list[nn.Module] = [nn.ConvTranspose2d(z_dim, c, 4, 1, 0, bias=False), nn.BatchNorm2d(c), nn.ReLU(True)]
        for _ in range(n_up - 1):
            layers.append(_up(c, c // 2))
            c //= 2
        layers += [nn.ConvTranspose2d(c, channels, 4, 2, 1), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z[:, :, None, None])


class DCDiscriminator(nn.Module):
    """A frame -> one realness logit per image. (B,)"""

    def __init__(self, channels: int, size: int, width: int):
        super().__init__()
        n_down = (size // 4).bit_length() - 1
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 4, 2, 1), nn.LeakyReLU(0.2, True)]
        c = width
        for _ in range(n_down - 1):
            layers.append(_down(c, 2 * c))
            c *= 2
        layers.append(nn.Conv2d(c, 1, 4, 1, 0))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()
