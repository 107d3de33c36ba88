"""Methods whose pseudo-anomaly maker is trained inside `generate`: convae-negloss and dcgan.

convae-negloss  An autoencoder learns to predict the next normal frame; an "abnormal" copy of it is then
                fine-tuned with a negative reconstruction loss, bounded by a hinge (no reward once its error
                reaches `nega_bound`), so its outputs are degraded reconstructions rather than noise.
dcgan           A DCGAN learns single normal frames; its samples and its reconstructions of real frames
                (by optimising the latent code) are the pseudo-anomalies.
"""

from __future__ import annotations

import copy

import numpy as np
import torch
import torch.nn.functional as F

from vgisgan.config import GenerateConfig
from vgisgan.data.clips import ClipSampler, to_tensor, to_uint8
from vgisgan.errors import VgisganError
from vgisgan.methods import PseudoBatch, real_targets
from vgisgan.models.baselines import ConvAE, DCDiscriminator, DCGenerator
from vgisgan.progress import Progress


def _to_range(x: torch.Tensor, unit: bool) -> torch.Tensor:
    """[-1, 1] -> [0, 1] when the unit range is used (the thesis tried both normalisations)."""
    return (x + 1) / 2 if unit else x


def _mse01(a: torch.Tensor, b: torch.Tensor, unit: bool) -> torch.Tensor:
    """Mean squared error measured on the [0, 1] scale whatever the normalisation."""
    return F.mse_loss(a, b) * (1.0 if unit else 0.25)


def brightness_kl(recon01: torch.Tensor, frame01: torch.Tensor, eps: float = 1e-3) -> torch.Tensor:
    """Mean over the batch of KL(P || Q), P and Q each frame's brightness spread over its pixels (sum 1).

    The thesis passed raw frames to nn.KLDivLoss (output read as log-probabilities, frame as probabilities),
    which is undefined for [-1, 1] frames. Here both are [0, 1] images made into distributions over pixels,
    so the term is >= 0, is 0 exactly when the reconstruction is the frame up to brightness scale, and grows
    when brightness moves to other places. eps keeps black pixels from giving log(0).
    """
    p = (frame01 + eps).flatten(1)  # (B, C*H*W)
    q = (recon01 + eps).flatten(1)
    p, q = p / p.sum(1, keepdim=True), q / q.sum(1, keepdim=True)
    return (p * (p.log() - q.log())).sum(1).mean()


def convae_error(recon: torch.Tensor, frame: torch.Tensor, unit: bool, kind: str) -> torch.Tensor:
    """The reconstruction error of the thesis's convae experiment: MSE on [0, 1], plus the KL term for mse-kl."""
    err = _mse01(recon, frame, unit)
    if kind == "mse-kl":
        to01 = (lambda x: x) if unit else (lambda x: (x + 1) / 2)
        err = err + brightness_kl(to01(recon), to01(frame))
    return err


def _fit_convae(
    model: ConvAE,
    sampler: ClipSampler,
    cfg: GenerateConfig,
    phase: str,
    steps: int,
    device: torch.device,
    progress: Progress,
    log: list[dict],
) -> None:
    unit = cfg.norm == "01"
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    for it in range(steps):
        clip = _to_range(sampler.sample(cfg.train_batch).to(device), unit)  # (B, t_length, C, H, W)
        recon = model(clip[:, :-1].flatten(1, 2))
        # The normal autoencoder learns with MSE (as in the thesis); the copy's error may add the KL term.
        err = convae_error(recon, clip[:, -1], unit, "mse" if phase == "normal" else cfg.nega_loss)
        # The abnormal copy is rewarded for error, but only up to nega_bound: past it there is no gradient.
        loss = err if phase == "normal" else cfg.nega_value * F.relu(cfg.nega_bound - err)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if (it + 1) % 25 == 0 or it + 1 == steps:
            log.append({"phase": phase, "iter": it + 1, "error": err.item()})
            progress(f"convae-{phase}", it + 1, steps, error=err.item())


def train_convae(
    sampler: ClipSampler, cfg: GenerateConfig, channels: int, device: torch.device, progress: Progress
) -> tuple[ConvAE, ConvAE, list[dict]]:
    log: list[dict] = []
    normal = ConvAE((cfg.t_length - 1) * channels, channels, cfg.width, cfg.norm == "01").to(device)
    _fit_convae(normal, sampler, cfg, "normal", cfg.iters, device, progress, log)
    abnormal = copy.deepcopy(normal)  # the abnormal copy starts as a good predictor
    _fit_convae(abnormal, sampler, cfg, "abnormal", max(cfg.iters // 2, 1), device, progress, log)
    return normal.eval(), abnormal.eval(), log


@torch.no_grad()
def convae_batch(
    sampler: ClipSampler, normal: ConvAE, abnormal: ConvAE, cfg: GenerateConfig, batch: int, device: torch.device
) -> PseudoBatch:
    unit = cfg.norm == "01"
    idx = sampler.indices(batch)
    past = _to_range(sampler.load(idx).to(device), unit)[:, :-1].flatten(1, 2)
    back = (lambda x: x * 2 - 1) if unit else (lambda x: x)
    rows = idx + np.array([0, cfg.t_length - 1])
    return PseudoBatch(rows, to_uint8(back(abnormal(past))), to_uint8(back(normal(past))))


def check_dcgan_size(size: tuple[int, int]) -> int:
    h, w = size
    if h != w or h < 16 or (h & (h - 1)):
        raise VgisganError(
            f"dcgan needs square frames whose side is a power of two (16, 32, ..., 256); "
            f"the frame cache holds {h}x{w}: prepare with another --size"
        )
    return h


def train_dcgan(
    frames: ClipSampler, cfg: GenerateConfig, channels: int, size: int, device: torch.device, progress: Progress
) -> tuple[DCGenerator, list[dict]]:
    g = DCGenerator(cfg.z_dim, channels, size, cfg.width).to(device)
    d = DCDiscriminator(channels, size, cfg.width).to(device)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    log = []
    for it in range(cfg.iters):
        real = frames.sample(cfg.train_batch)[:, 0].to(device)  # (B, C, H, W)
        z = torch.randn(len(real), cfg.z_dim, generator=frames.generator).to(device)
        fake = g(z)
        ones, zeros = torch.ones(len(real), device=device), torch.zeros(len(real), device=device)
        loss_d = F.binary_cross_entropy_with_logits(d(torch.cat([real, fake.detach()])), torch.cat([ones, zeros]))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        loss_g = F.binary_cross_entropy_with_logits(d(fake), ones)
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if (it + 1) % 25 == 0 or it + 1 == cfg.iters:
            log.append({"phase": "dcgan", "iter": it + 1, "loss_d": loss_d.item(), "loss_g": loss_g.item()})
            progress("dcgan", it + 1, cfg.iters, loss_d=loss_d.item(), loss_g=loss_g.item())
    return g.eval(), log


def reconstruct(g: DCGenerator, targets: torch.Tensor, cfg: GenerateConfig, generator: torch.Generator) -> torch.Tensor:
    """The generator's closest image to each target, by optimising its latent code."""
    z = torch.randn(len(targets), cfg.z_dim, generator=generator).to(targets.device).requires_grad_(True)
    opt = torch.optim.Adam([z], lr=0.05)
    for p in g.parameters():
        p.requires_grad_(False)
    for _ in range(cfg.recon_steps):
        loss = F.mse_loss(g(z), targets)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    with torch.no_grad():
        return g(z)


def dcgan_batch(
    sampler: ClipSampler, g: DCGenerator, cfg: GenerateConfig, batch: int, device: torch.device
) -> PseudoBatch:
    """Samples and reconstructions, each placed after the past frames of a random training clip."""
    rows = sampler.indices(batch) + np.array([0, cfg.t_past])
    n_recon = int(round(batch * cfg.recon_frac))
    with torch.no_grad():
        samples = g(torch.randn(batch - n_recon, cfg.z_dim, generator=sampler.generator).to(device))
    parts = [samples]
    if n_recon:
        targets = to_tensor(real_targets(sampler.cache, rows[:n_recon])).to(device)
        parts.insert(0, reconstruct(g, targets, cfg, sampler.generator))
    return PseudoBatch(rows, to_uint8(torch.cat(parts)), None)


def train_ognet(
    frames: ClipSampler, cfg: GenerateConfig, channels: int, device: torch.device, progress: Progress
) -> tuple[dict, list[dict]]:
    """OGNet phase one (Zaheer et al., CVPR 2020): a denoising generator against a discriminator. The
    generator of an early iteration is kept as the "old" one; it reconstructs normal frames badly."""
    from vgisgan.models.unet import PatchDiscriminator, UNet

    g = UNet(channels, channels, cfg.width, depth=2).to(device)
    d = PatchDiscriminator(channels, cfg.width).to(device)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr, betas=(0.5, 0.999))
    old_at = max(1, int(cfg.iters * cfg.old_frac))
    g_old, log = copy.deepcopy(g), []
    for it in range(cfg.iters):
        real = frames.sample(cfg.train_batch)[:, 0].to(device)  # (B, C, H, W)
        noise = torch.randn(real.shape, generator=frames.generator).to(device) * cfg.noise
        fake = g(real + noise)
        real_logits = d(torch.cat([real, fake.detach()]))
        loss_d = F.binary_cross_entropy_with_logits(
            real_logits,
            torch.cat([torch.ones_like(real_logits[: len(real)]), torch.zeros_like(real_logits[len(real) :])]),
        )
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        fake_logits = d(fake)
        rec = F.mse_loss(fake, real)
        loss_g = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits)) + cfg.rec_weight * rec
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        if it + 1 == old_at:
            g_old = copy.deepcopy(g)
        if (it + 1) % 25 == 0 or it + 1 == cfg.iters:
            log.append(
                {
                    "phase": "ognet",
                    "iter": it + 1,
                    "loss_d": loss_d.item(),
                    "loss_g": loss_g.item(),
                    "rec_mse": rec.item(),
                }
            )
            progress("ognet", it + 1, cfg.iters, loss_d=loss_d.item(), rec=rec.item())
    return {"ognet_g_old": g_old.eval(), "ognet_g_new": g.eval(), "ognet_d": d.eval()}, log


@torch.no_grad()
def ognet_batch(sampler: ClipSampler, nets: dict, cfg: GenerateConfig, batch: int, device: torch.device) -> PseudoBatch:
    """OGNet phase two's examples: abnormal are the old generator's poor reconstructions, half of them
    averaged with another frame's (the paper's mixed pseudo-anomalies); normal are the final generator's."""
    rows = sampler.indices(batch) + np.array([0, cfg.t_past])
    real = to_tensor(real_targets(sampler.cache, rows)).to(device)  # (B, C, H, W)
    old = nets["ognet_g_old"](real)
    half = batch // 2
    mixed = (old[:half] + old.roll(1, dims=0)[:half]) / 2
    pseudo = torch.cat([mixed, old[half:]])
    return PseudoBatch(rows, to_uint8(pseudo), to_uint8(nets["ognet_g_new"](real)))
