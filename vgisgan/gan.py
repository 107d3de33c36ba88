"""The two-branch GAN: networks, one training step as small named functions, and loading a published one.

normal branch  G_n: past frames -> the normal next frame (FFP: intensity + gradient + motion + adversarial)
pseudo branch  G_p: past frames -> a frame that looks like the scene but moves wrongly (adversarial +
               gradient + a weak intensity pull, and a bounded reward for motion that departs from the real one)
Each branch has its own least-squares patch discriminator, and each of the four optimizers steps only the
parameters it owns: generators first (discriminators frozen), then discriminators on detached fakes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from vgisgan import losses
from vgisgan.config import GanModelConfig, TrainGanConfig
from vgisgan.models.unet import PatchDiscriminator, UNet


@dataclass
class GanNets:
    g_normal: nn.Module
    g_pseudo: nn.Module
    d_normal: nn.Module
    d_pseudo: nn.Module
    flow: nn.Module

    def trainable(self) -> dict[str, nn.Module]:
        return {
            "g_normal": self.g_normal,
            "g_pseudo": self.g_pseudo,
            "d_normal": self.d_normal,
            "d_pseudo": self.d_pseudo,
        }


def build_generator(m: GanModelConfig) -> UNet:
    """The normal branch: past frames -> the next frame (a correction to the last one with m.residual)."""
    return UNet(m.t_past * m.channels, m.channels, m.width, m.depth, residual=m.residual)


class WarpGenerator(nn.Module):
    """Pseudo branch that moves pixels instead of painting them: from the past frames a U-Net predicts a
    displacement field, and the real next frame is resampled along it. Where the field is zero the output is
    the real frame, noise and all; where it is not, real texture sits where the motion says it should not.
    So the detector cannot tell pseudo-anomalies by a generated look (blur, frozen sensor noise): only by
    their motion."""

    def __init__(self, m: GanModelConfig):
        super().__init__()
        self.max_shift, self.channels, self.use_mask = m.max_shift, m.channels, m.warp_mask
        self.net = UNet(m.t_past * m.channels, 2, m.width, m.depth)
        # Start from the identity warp (the real next frame): any wrong motion is then learned, never noise.
        nn.init.zeros_(self.net.out.weight)
        nn.init.zeros_(self.net.out.bias)

    def forward(self, past: torch.Tensor, frame: torch.Tensor) -> torch.Tensor:
        """past (B, T*C, H, W), frame (B, C, H, W) -> frame resampled along a predicted displacement."""
        b, _, h, w = frame.shape
        ys, xs = torch.meshgrid(
            torch.linspace(-1, 1, h, device=frame.device, dtype=frame.dtype),
            torch.linspace(-1, 1, w, device=frame.device, dtype=frame.dtype),
            indexing="ij",
        )
        identity = torch.stack([xs, ys], dim=-1).expand(b, h, w, 2)  # (B, H, W, 2) in grid units
        shift = self.net(past) * (2 * self.max_shift)  # (B, 2, H, W)
        if self.use_mask:
            shift = shift * self.motion_mask(past)
        shift = shift.permute(0, 2, 3, 1)
        return F.grid_sample(
            frame, identity + shift.to(frame.dtype), mode="bilinear", padding_mode="border", align_corners=True
        )

    def motion_mask(self, past: torch.Tensor) -> torch.Tensor:
        """(B, 1, H, W) in [0, 1]: 1 near pixels that changed between the last two past frames."""
        c = self.channels
        if past.shape[1] < 2 * c:
            return torch.ones_like(past[:, :1])
        change = (past[:, -c:] - past[:, -2 * c : -c]).abs().mean(dim=1, keepdim=True)  # (B, 1, H, W)
        change = F.avg_pool2d(change, 3, stride=1, padding=1)  # steadier against pixel noise
        reach = 2 * max(1, round(self.max_shift * past.shape[-1])) + 1  # as far as a displacement can carry
        near = F.max_pool2d(change, reach, stride=1, padding=reach // 2)
        # Sensor noise changes pixels by a few hundredths of the [-1, 1] range; moving objects by tenths.
        return ((near - 0.1) / 0.1).clamp(0.0, 1.0)


def pseudo_forward(g_pseudo: nn.Module, past: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """The pseudo branch's output: a warp of the real next frame, or (thesis mode) a generated frame."""
    return g_pseudo(past, target) if isinstance(_unwrap(g_pseudo), WarpGenerator) else g_pseudo(past)


def build_pseudo_generator(m: GanModelConfig) -> nn.Module:
    """The pseudo branch: a warp of the real next frame, or (thesis mode) a whole generated frame."""
    if m.pseudo_output == "warp":
        return WarpGenerator(m)
    return build_generator(m.model_copy(update={"residual": False}))  # a frame painted whole, as in the thesis


def build_nets(m: GanModelConfig, flow: nn.Module) -> GanNets:
    return GanNets(
        g_normal=build_generator(m),
        g_pseudo=build_pseudo_generator(m),
        d_normal=PatchDiscriminator(m.channels, m.d_width),
        d_pseudo=PatchDiscriminator(m.channels, m.d_width),
        flow=flow,
    )


def build_optimizers(nets: GanNets, cfg: TrainGanConfig) -> dict[str, torch.optim.Optimizer]:
    betas = (0.5, 0.999)
    return {
        "g_normal": torch.optim.Adam(nets.g_normal.parameters(), lr=cfg.lr_g, betas=betas),
        "g_pseudo": torch.optim.Adam(nets.g_pseudo.parameters(), lr=cfg.lr_pseudo or cfg.lr_g, betas=betas),
        "d_normal": torch.optim.Adam(nets.d_normal.parameters(), lr=cfg.lr_d, betas=betas),
        "d_pseudo": torch.optim.Adam(nets.d_pseudo.parameters(), lr=cfg.lr_d, betas=betas),
    }


def split_clip(clip: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(B, T+1, C, H, W) -> past stacked on channels (B, T*C, H, W), last past frame and target (B, C, H, W)."""
    b, n, c, h, w = clip.shape
    return clip[:, :-1].reshape(b, (n - 1) * c, h, w), clip[:, -2], clip[:, -1]


@torch.no_grad()
def prediction_psnr(g: nn.Module, clips: torch.Tensor, batch: int = 32) -> float:
    """Mean PSNR (dB) of g's next-frame predictions for clips (N, T+1, C, H, W), kept on the CPU and moved to
    g's device a batch at a time. g runs in eval mode (BatchNorm's running statistics, as when scoring test
    frames) and is put back in the mode it was in; nothing random is drawn, so training is unchanged."""
    device, was_training = next(g.parameters()).device, g.training
    g.eval()
    past, _, target = split_clip(clips)  # (N, T*C, H, W), _, (N, C, H, W)
    pred = torch.cat([g(past[i : i + batch].to(device)).float().cpu() for i in range(0, len(past), batch)])
    g.train(was_training)
    return losses.psnr(pred, target).mean().item()


def _unwrap(m: nn.Module) -> nn.Module:
    """The module inside a DistributedDataParallel wrapper (used where no gradient sync is wanted)."""
    return getattr(m, "module", m)


def set_requires_grad(module: nn.Module, flag: bool) -> None:
    for p in module.parameters():
        p.requires_grad_(flag)


def generator_losses(nets: GanNets, cfg: TrainGanConfig, clip: torch.Tensor) -> tuple[torch.Tensor, dict, tuple]:
    past, last, target = split_clip(clip)
    gen_n = nets.g_normal(past)  # (B, C, H, W)
    gen_p = pseudo_forward(nets.g_pseudo, past, target)
    with torch.autocast(device_type=clip.device.type, enabled=False):
        # One batched flow call for the three pairs. Flows of gen_n and gen_p are differentiable in those
        # frames (the gradient reaches both generators); the real motion is a fixed target.
        flows = nets.flow(last.float().repeat(3, 1, 1, 1), torch.cat([target, gen_n, gen_p]).float())
        flow_real, flow_n, flow_p = flows.chunk(3)
        flow_real = flow_real.detach()
    normal = {
        "int": losses.intensity_loss(gen_n, target),
        "grad": losses.gradient_loss(gen_n, target),
        "motion": losses.motion_loss(flow_n, flow_real),
        "adv": losses.lsgan_generator_loss(_unwrap(nets.d_normal)(gen_n)),
    }
    pseudo = {
        "int": losses.intensity_loss(gen_p, target),
        "grad": losses.gradient_loss(gen_p, target),
        "depart": losses.departure_loss(flow_p, flow_real, cfg.departure_margin, cfg.departure_top),
        "adv": losses.lsgan_generator_loss(_unwrap(nets.d_pseudo)(gen_p)),
    }
    loss_n = (
        cfg.w_intensity * normal["int"]
        + cfg.w_gradient * normal["grad"]
        + cfg.w_motion * normal["motion"]
        + cfg.w_adv * normal["adv"]
    )
    loss_p = (
        cfg.w_pseudo_intensity * pseudo["int"]
        + cfg.w_gradient * pseudo["grad"]
        + cfg.w_departure * pseudo["depart"]
        + cfg.w_adv * pseudo["adv"]
    )
    with torch.no_grad():
        stats = {
            "g_loss_n": loss_n.item(),
            "g_loss_p": loss_p.item(),
            "motion_n": normal["motion"].item(),
            "psnr_n": losses.psnr(gen_n, target).mean().item(),
            "psnr_p": losses.psnr(gen_p, target).mean().item(),
            "psnr_p_vs_n": losses.psnr(gen_p, gen_n).mean().item(),
            "departure_p": losses.motion_departure(flow_p, flow_real, cfg.departure_top).mean().item(),
            "departure_n": losses.motion_departure(flow_n, flow_real, cfg.departure_top).mean().item(),
        }
    return loss_n + loss_p, stats, (target, gen_n, gen_p)


def generator_step(nets: GanNets, opts: dict, cfg: TrainGanConfig, clip: torch.Tensor, amp: bool) -> tuple[dict, tuple]:
    """Update both generators. Discriminators are frozen so no gradient leaks into them."""
    set_requires_grad(nets.d_normal, False)
    set_requires_grad(nets.d_pseudo, False)
    opts["g_normal"].zero_grad(set_to_none=True)
    opts["g_pseudo"].zero_grad(set_to_none=True)
    with torch.autocast(device_type=clip.device.type, dtype=torch.bfloat16, enabled=amp):
        loss, stats, frames = generator_losses(nets, cfg, clip)
    loss.backward()
    opts["g_normal"].step()
    opts["g_pseudo"].step()
    set_requires_grad(nets.d_normal, True)
    set_requires_grad(nets.d_pseudo, True)
    return stats, frames


def discriminator_step(nets: GanNets, opts: dict, frames: tuple, amp: bool) -> dict:
    """Update each discriminator on real frames against its own generator's detached output."""
    target, gen_n, gen_p = frames
    stats = {}
    for branch, fake in (("normal", gen_n), ("pseudo", gen_p)):
        d, opt = getattr(nets, f"d_{branch}"), opts[f"d_{branch}"]
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device_type=target.device.type, dtype=torch.bfloat16, enabled=amp):
            # One forward over real and fake together: DistributedDataParallel allows one forward per backward.
            scores = d(torch.cat([target, fake.detach()]))
            loss = losses.lsgan_discriminator_loss(scores[: len(target)], scores[len(target) :])
        loss.backward()
        opt.step()
        stats[f"d_loss_{branch[0]}"] = loss.item()
    return stats


def train_step(
    nets: GanNets, opts: dict, cfg: TrainGanConfig, clip: torch.Tensor, amp: bool = False
) -> tuple[dict, tuple]:
    g_stats, frames = generator_step(nets, opts, cfg, clip, amp)
    d_stats = discriminator_step(nets, opts, frames, amp)
    return {**g_stats, **d_stats}, frames


def load_generators(art_path, manifest_config: dict, device: torch.device) -> tuple[GanModelConfig, UNet, nn.Module]:
    """Rebuild G_n and G_p of a published gan artifact from its manifest config and safetensors weights."""
    from safetensors.torch import load_file

    m = GanModelConfig.model_validate(manifest_config["model"])
    nets = []
    for name, build in (("g_normal", build_generator), ("g_pseudo", build_pseudo_generator)):
        g = build(m)
        g.load_state_dict(load_file(str(art_path / f"{name}.safetensors"), device="cpu"))
        nets.append(g.to(device).eval())
    return m, nets[0], nets[1]
