"""The U-Net frame predictor of Future Frame Prediction (Liu et al., CVPR 2018).

Input: T past frames stacked on channels, (B, T*C, H, W) in [-1, 1]. Output: the next frame, (B, C, H, W)
in [-1, 1]. Width w and depth d give encoder widths w, 2w, ..., 2^d w (the paper: w=64, d=3).

With `residual=True` the network predicts a correction to the last past frame instead of a whole frame, and
starts as "copy the last frame". On UCSD Ped2 at 128x128, copying the last frame predicts the next one better
(36.8 dB on the training videos) than the whole-frame U-Net after the cpu preset's 3,000 iterations (36.3 dB):
that U-Net spends its short training re-learning the static background. The residual one only has to learn
what moves (docs/results-history.md, vgisgan 0.9.0).
"""

from __future__ import annotations

import torch
from torch import nn


def double_conv(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, width: int = 64, depth: int = 3, residual: bool = False):
        super().__init__()
        self.residual, self.out_channels = residual, out_channels
        widths = [width * 2**i for i in range(depth + 1)]
        self.inc = double_conv(in_channels, widths[0])
        self.down = nn.ModuleList(double_conv(widths[i], widths[i + 1]) for i in range(depth))
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2) for i in reversed(range(depth))
        )
        self.merge = nn.ModuleList(double_conv(2 * widths[i], widths[i]) for i in reversed(range(depth)))
        self.out = nn.Conv2d(widths[0], out_channels, 3, padding=1)
        if residual:
            nn.init.zeros_(self.out.weight)  # start as the identity on the last frame: copy it
            nn.init.zeros_(self.out.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = [self.inc(x)]  # (B, w, H, W)
        for block in self.down:
            skips.append(block(nn.functional.max_pool2d(skips[-1], 2)))  # (B, 2^i w, H/2^i, W/2^i)
        h = skips.pop()
        for up, merge in zip(self.up, self.merge):
            h = merge(torch.cat([up(h), skips.pop()], dim=1))
        if self.residual:
            last = x[:, -self.out_channels :]  # (B, C, H, W): the last past frame
            return (last + self.out(h)).clamp(-1.0, 1.0)
        return torch.tanh(self.out(h))  # (B, C, H, W)


class PatchDiscriminator(nn.Module):
    """The least-squares patch discriminator: one realness value per patch, (B, 1, H/8, W/8)."""

    def __init__(self, in_channels: int, width: int = 64):
        super().__init__()
        w = width
        self.net = nn.Sequential(
            nn.Conv2d(in_channels, w, 4, stride=2, padding=1),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(w, 2 * w, 4, stride=2, padding=1),
            nn.BatchNorm2d(2 * w),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(2 * w, 4 * w, 4, stride=2, padding=1),
            nn.BatchNorm2d(4 * w),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(4 * w, 8 * w, 3, padding=1),
            nn.BatchNorm2d(8 * w),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(8 * w, 1, 3, padding=1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)
