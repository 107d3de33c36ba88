"""Differentiable optical flow for the motion loss.

The thesis computed its motion loss on flows of detached frames, so no gradient reached the generator. Here
Horn-Schunck is written as plain torch operations: the flow from the last past frame to a generated frame is
a differentiable function of that frame, and the motion loss trains the generator. A learned flow network can
be used instead, from a TorchScript file the user provides (no weights are downloaded).
"""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from vgisgan.errors import VgisganError


def _gray01(x: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) in [-1, 1] -> (B, 1, H, W) in [0, 1]."""
    return (x.mean(dim=1, keepdim=True) + 1) / 2


class HornSchunck(nn.Module):
    """Horn-Schunck flow (u, v) in pixels from `prev` to `nxt`, (B, 2, H, W); no learned parameters.

    `scale` > 1 computes the flow on frames downsampled by that factor (larger motions stay within the
    method's small-motion range) and returns it upsampled, in pixels of the input resolution.
    """

    def __init__(self, alpha: float = 0.1, iters: int = 30, scale: int = 2):
        super().__init__()
        self.alpha, self.iters, self.scale = alpha, iters, scale
        dx = torch.tensor([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=torch.float32) / 8
        self.register_buffer("dx", dx.view(1, 1, 3, 3), persistent=False)
        self.register_buffer("dy", dx.t().contiguous().view(1, 1, 3, 3), persistent=False)

    def forward(self, prev: torch.Tensor, nxt: torch.Tensor) -> torch.Tensor:
        a, b = _gray01(prev).float(), _gray01(nxt).float()  # flow is done in fp32 even under autocast
        if self.scale > 1:
            a, b = F.avg_pool2d(a, self.scale), F.avg_pool2d(b, self.scale)
        m = (a + b) / 2
        ix = F.conv2d(F.pad(m, (1, 1, 1, 1), mode="replicate"), self.dx)
        iy = F.conv2d(F.pad(m, (1, 1, 1, 1), mode="replicate"), self.dy)
        it = b - a
        denom = self.alpha**2 + ix**2 + iy**2
        grad = torch.cat([ix, iy], dim=1)  # (B, 2, h, w)
        flow = torch.zeros_like(grad)  # (u, v), updated jointly
        for _ in range(self.iters):
            mean = neighbour_mean(flow)
            d = ((grad * mean).sum(dim=1, keepdim=True) + it) / denom
            flow = mean - grad * d  # (B, 2, H/s, W/s)
        if self.scale > 1:
            flow = F.interpolate(flow, scale_factor=self.scale, mode="bilinear", align_corners=False) * self.scale
        return flow


def neighbour_mean(x: torch.Tensor) -> torch.Tensor:
    """Horn-Schunck's weighted mean of the 8 neighbours, kernel [[1, 2, 1], [2, 0, 2], [1, 2, 1]] / 12, with the
    border replicated. (B, C, H, W) -> the same shape.

    Written as separable sums of shifted slices: the kernel is [1, 2, 1] x [1, 2, 1] less 4 at the centre. A
    3x3 grouped convolution on two channels did the same work at twice the time on the CPU, and Horn-Schunck's
    30 iterations, forward and backward, were an eighth of a train-gan step (benchmarks/train_step.py).
    """
    p = F.pad(x, (1, 1, 1, 1), mode="replicate")  # (B, C, H+2, W+2)
    rows = p[..., :-2, :] + 2 * p[..., 1:-1, :] + p[..., 2:, :]  # (B, C, H, W+2)
    return (rows[..., :-2] + 2 * rows[..., 1:-1] + rows[..., 2:] - 4 * x) / 12


class ScriptedFlow(nn.Module):
    """A user's TorchScript flow network: called as net(prev, nxt) on [-1, 1] frames, returns (B, 2, H, W)."""

    def __init__(self, path: str):
        super().__init__()
        p = Path(path)
        if not p.is_file():
            raise VgisganError(f"flow weights file {p} does not exist")
        try:
            with warnings.catch_warnings():
                # torch deprecates TorchScript for torch.export, but torch.export.load falls back to unpickling
                # arbitrary objects (weights_only=False), which we do not do on a file a user was sent. A
                # TorchScript archive holds code and tensors only, so it stays the format until torch drops it.
                warnings.filterwarnings("ignore", "`torch.jit.load` is deprecated", DeprecationWarning)
                self.net = torch.jit.load(str(p), map_location="cpu")
        except (RuntimeError, ValueError) as e:
            raise VgisganError(f"{p} is not a TorchScript flow model ({str(e).splitlines()[0]})") from e
        for param in self.net.parameters():
            param.requires_grad_(False)  # a fixed flow estimator: gradients pass through, weights stay

    def forward(self, prev: torch.Tensor, nxt: torch.Tensor) -> torch.Tensor:
        flow = self.net(prev, nxt)
        if flow.dim() != 4 or flow.shape[1] != 2 or flow.shape[-2:] != prev.shape[-2:]:
            raise VgisganError(f"the flow model returned shape {tuple(flow.shape)}, expected (B, 2, H, W)")
        return flow


def build_flow(kind: str, weights: str | None) -> nn.Module:
    if kind == "torchscript":
        assert weights is not None
        return ScriptedFlow(weights)
    return HornSchunck()
