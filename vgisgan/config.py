"""One typed config per stage. Validated before any heavy work and saved in the artifact's manifest.

Field descriptions double as the CLI's `--help` text (see `StageConfig.help`), so the two cannot drift.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from vgisgan.errors import VgisganError

DATASETS = ("ped2", "ped1", "avenue", "shanghaitech", "synthetic", "folder")
Dataset = Literal["ped2", "ped1", "avenue", "shanghaitech", "synthetic", "folder"]
Method = Literal["ffp-pseudo", "skip-frame", "local-skip", "fast-forward", "patch", "convae-negloss", "dcgan", "ognet"]
# The methods whose pseudo-anomalies `vgisgan run` adds to the method's own for the detector (docs/results-history.md).
DEFAULT_MIX = ("skip-frame", "patch", "local-skip")


class StageConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @classmethod
    def help(cls, field: str) -> str:
        info = cls.model_fields[field]
        default = info.default
        if default is None:  # no fixed default: the description says what happens without the option
            return str(info.description)
        shown = str(default).lower() if isinstance(default, bool) else default
        return f"{info.description} (default: {shown})"

    @classmethod
    def build(cls, toml_file: Path | None = None, **options: Any) -> "StageConfig":
        """Settings from a TOML file, overridden by the options given on the command line (non-None)."""
        values: dict[str, Any] = load_toml(toml_file) if toml_file else {}
        values.update({k: v for k, v in options.items() if v is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as e:
            raise VgisganError(describe_validation_error(e, toml_file)) from e


def load_toml(path: Path) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        return tomllib.loads(Path(path).read_text())
    except FileNotFoundError as e:
        raise VgisganError(f"config file {path} does not exist") from e
    except tomllib.TOMLDecodeError as e:
        raise VgisganError(f"config file {path} is not valid TOML: {e}") from e


def describe_validation_error(e: ValidationError, source: Path | None) -> str:
    parts = []
    for err in e.errors()[:3]:
        where = ".".join(str(x) for x in err["loc"]) or "config"
        parts.append(f"{where}: {err['msg']}")
    origin = f" (from {source} and the options)" if source else ""
    return "invalid settings" + origin + ": " + "; ".join(parts)


def parse_size(text: str | None) -> tuple[int, int] | None:
    """'256x256' or '256' -> (256, 256)."""
    if text is None:
        return None
    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or min(parts) < 8:
        raise VgisganError(f"--size {text!r} is not HxW with both at least 8, e.g. 256x256")
    return parts[0], parts[1]


class SyntheticConfig(StageConfig):
    seed: int = Field(0, description="Seed of the synthetic video generator.")
    size: int = Field(64, ge=16, le=512, description="Frame height and width of synthetic video.")
    train_videos: int = Field(8, ge=1, le=200, description="Number of normal training videos.")
    test_videos: int = Field(6, ge=1, le=200, description="Number of test videos (with abnormal events).")
    length: int = Field(120, ge=8, le=5000, description="Frames per synthetic video.")


class PrepareConfig(StageConfig):
    dataset: Dataset = Field(description="Which dataset: " + ", ".join(DATASETS) + ".")
    source: str | None = Field(None, description="Folder or archive holding the dataset.")
    size: tuple[int, int] | None = Field(
        None, description="Frame size HxW after resizing (256x256 for real datasets, the synthetic size else)."
    )
    channels: Literal[1, 3] | None = Field(None, description="1 (grayscale) or 3 (RGB); 1 for UCSD, 3 otherwise.")
    workers: int = Field(2, ge=1, le=64, description="Threads decoding frames in parallel.")
    storage: Literal["raw", "compressed"] = Field(
        "raw", description="raw: memory-mappable uint8 arrays; compressed: zlib chunks, several times smaller."
    )
    min_length: int = Field(5, ge=1, description="Shortest video accepted (later stages need T+1 frames).")
    labels: str | None = Field(None, description="Labels CSV (video,start,end; 1-based) for the folder dataset.")
    synthetic: SyntheticConfig = Field(default_factory=SyntheticConfig, description="Synthetic generator settings.")

    @model_validator(mode="after")
    def _defaults_per_dataset(self) -> "PrepareConfig":
        if self.channels is None:
            self.channels = 1 if self.dataset in ("ped1", "ped2", "synthetic") else 3
        if self.size is None:
            s = self.synthetic.size
            self.size = (s, s) if self.dataset == "synthetic" else (256, 256)
        return self


class GanModelConfig(StageConfig):
    """What is needed to rebuild the networks: stored in the gan artifact's manifest."""

    channels: int = Field(1, description="Image channels.")
    size: tuple[int, int] = Field((64, 64), description="Frame size HxW.")
    t_past: int = Field(4, ge=1, le=16, description="Past frames the generators see.")
    width: int = Field(32, ge=4, le=256, description="Base channel width of the U-Net (the paper: 64).")
    depth: int = Field(3, ge=1, le=6, description="Down/up levels of the U-Net (the paper: 3).")
    d_width: int = Field(32, ge=4, le=256, description="Base channel width of the discriminators.")
    pseudo_output: Literal["warp", "frame"] = Field("warp", description="What the pseudo branch outputs.")
    max_shift: float = Field(0.08, gt=0, le=0.5, description="Largest warp displacement, as a fraction of the width.")
    warp_mask: bool = Field(False, description="Let the warp move only pixels near recent motion.")
    residual: bool = Field(False, description="The normal generator predicts a correction to the last past frame.")

    @model_validator(mode="after")
    def _size_fits(self) -> "GanModelConfig":
        f = 2 ** max(self.depth, 3)
        if self.size[0] % f or self.size[1] % f:
            raise ValueError(
                f"frame size {self.size[0]}x{self.size[1]} must be divisible by {f} for depth {self.depth}: "
                "prepare the frames with another --size or lower --depth"
            )
        return self


class TrainGanConfig(StageConfig):
    iters: int = Field(2000, ge=1, description="Training iterations.")
    batch_size: int = Field(8, ge=1, le=1024, description="Clips per iteration (per process under torchrun).")
    t_past: int = Field(4, ge=1, le=16, description="Past frames the generators see (T).")
    width: int = Field(32, ge=4, le=256, description="U-Net base width (the paper: 64).")
    depth: int = Field(3, ge=1, le=6, description="U-Net down/up levels (the paper: 3).")
    d_width: int = Field(32, ge=4, le=256, description="Discriminator base width.")
    pseudo_output: Literal["warp", "frame"] = Field(
        "warp",
        description="Pseudo branch output. warp: a displacement field that moves the last real frame's pixels "
        "(real texture, wrong motion); frame: a whole generated frame, as in the thesis.",
    )
    max_shift: float = Field(0.08, gt=0, le=0.5, description="warp: largest displacement, as a fraction of the width.")
    warp_mask: bool = Field(
        False,
        description="warp: move only pixels near where the past frames changed, so static structure "
        "(edges of buildings, the frame border) cannot be bent into an easy pseudo-anomaly.",
    )
    residual: bool = Field(
        False,
        description="The normal generator predicts a correction to the last past frame (and starts as a copy "
        "of it) instead of a whole frame: a short training then goes to what moves, not to re-learning the "
        "static background.",
    )
    lr_g: float = Field(2e-4, gt=0, le=1, description="Learning rate of the normal generator.")
    lr_pseudo: float | None = Field(
        None, gt=0, le=1, description="Learning rate of the pseudo generator (default: the same as --lr-g)."
    )
    lr_decay: float = Field(
        0.0,
        ge=0,
        lt=1,
        description="Share of the last iterations over which the normal generator's learning rate falls "
        "linearly to 0 (0: constant). With a decay, --iters shapes the run: --resume then continues only "
        "a run of the same --iters.",
    )
    lr_d: float = Field(2e-5, gt=0, le=1, description="Discriminator learning rate.")
    w_intensity: float = Field(1.0, ge=0, description="Weight of the intensity (L2) loss.")
    w_gradient: float = Field(1.0, ge=0, description="Weight of the gradient loss.")
    w_motion: float = Field(2.0, ge=0, description="Weight of the motion (optical-flow) loss.")
    w_adv: float = Field(0.05, ge=0, description="Weight of the adversarial loss.")
    w_departure: float = Field(0.6, ge=0, description="Weight of the pseudo branch's motion-departure reward.")
    departure_margin: float = Field(
        2.0, gt=0, description="Flow difference (pixels) beyond which the pseudo branch gets no more reward."
    )
    departure_top: float = Field(
        0.05, gt=0, le=1, description="Share of pixels (those departing most) over which the departure is measured."
    )
    w_pseudo_intensity: float = Field(
        0.1, ge=0, description="Weak L2 pull of pseudo-anomalies towards the target, keeping them in the scene."
    )
    flow: Literal["horn-schunck", "torchscript"] = Field(
        "horn-schunck",
        description="Optical flow of the motion loss: built-in differentiable Horn-Schunck, or "
        "a TorchScript flow network given by --flow-weights.",
    )
    flow_weights: str | None = Field(None, description="TorchScript flow model file (with --flow torchscript).")
    val_videos: int = Field(
        0,
        ge=0,
        description="Keep the last N training videos out of training and log the normal generator's "
        "prediction PSNR on 96 fixed clips of them at every checkpoint (log.csv column val_psnr_n). A predictor "
        "that fits its training frames but not unseen video of the scene shows there, without a test label. "
        "The published weights are still the last iteration's.",
    )
    flip: bool = Field(True, description="Augment clips by horizontal flips.")
    seed: int = Field(0, description="Random seed (weights, clip sampling, augmentation).")
    log_every: int = Field(50, ge=1, description="Iterations between logged rows and progress updates.")
    sample_every: int = Field(500, ge=1, description="Iterations between sample grids.")
    checkpoint_every: int = Field(500, ge=1, description="Iterations between resumable checkpoints.")
    amp: bool = Field(False, description="bf16 autocast on CUDA (ignored on CPU).")
    channels_last: bool = Field(False, description="channels-last memory format on CUDA.")

    @model_validator(mode="after")
    def _flow_weights_given(self) -> "TrainGanConfig":
        if self.flow == "torchscript" and not self.flow_weights:
            raise ValueError("--flow torchscript needs --flow-weights FILE")
        return self


class GenerateConfig(StageConfig):
    n: int = Field(500, ge=1, le=1_000_000, description="Number of pseudo-anomalies to make.")
    method: Method = Field("ffp-pseudo", description="How pseudo-anomalies are made (see docs/methods.md).")
    batch_size: int = Field(32, ge=1, le=4096, description="Clips per batch.")
    seed: int = Field(0, description="Random seed for the clip sampling.")
    t_past: int | None = Field(None, ge=1, le=16, description="Past frames per clip: the GAN's T, or 4 without a GAN.")
    skip: int = Field(
        3, ge=2, le=16, description="skip-frame, local-skip, fast-forward: frame stride of the fast clips."
    )
    patch_frac: float = Field(
        0.3, gt=0, lt=1, description="patch, local-skip: pasted patch side as a fraction of the frame."
    )
    iters: int = Field(1000, ge=1, description="convae-negloss, dcgan, ognet: training iterations of their networks.")
    train_batch: int = Field(16, ge=1, le=1024, description="convae-negloss, dcgan, ognet: training batch size.")
    width: int = Field(16, ge=4, le=256, description="convae-negloss, dcgan, ognet: base channel width.")
    lr: float = Field(2e-4, gt=0, le=1, description="convae-negloss, dcgan, ognet: learning rate.")
    t_length: int = Field(2, ge=2, le=16, description="convae-negloss: clip length (past frames + the target).")
    nega_value: float = Field(0.1, gt=0, le=10, description="convae-negloss: weight of the negative loss.")
    nega_bound: float = Field(
        0.02,
        gt=0,
        le=1,
        description="convae-negloss: error (MSE on [0, 1], plus KL with mse-kl) past which the negative loss stops.",
    )
    nega_loss: Literal["mse", "mse-kl"] = Field(
        "mse",
        description="convae-negloss: error the abnormal copy is rewarded for: mse, or mse-kl (MSE plus the KL "
        "divergence between the brightness distributions over pixels of the frame and its reconstruction).",
    )
    norm: Literal["pm1", "01"] = Field("pm1", description="convae-negloss: input range, [-1, 1] (pm1) or [0, 1].")
    z_dim: int = Field(64, ge=2, le=1024, description="dcgan: latent size.")
    recon_frac: float = Field(0.5, ge=0, le=1, description="dcgan: share of reconstructions (rest: samples).")
    recon_steps: int = Field(30, ge=1, le=1000, description="dcgan: latent optimisation steps per reconstruction.")
    old_frac: float = Field(
        0.2, gt=0, le=1, description="ognet: the 'old' generator is the one at this share of iters."
    )
    noise: float = Field(0.2, ge=0, le=2, description="ognet: std of the Gaussian noise the denoiser removes.")
    rec_weight: float = Field(10.0, ge=0, description="ognet: weight of the reconstruction loss of the generator.")


class DetectorConfig(StageConfig):
    epochs: int = Field(10, ge=1, le=1000, description="Passes over the training examples.")
    batch_size: int = Field(32, ge=1, le=4096, description="Examples per step.")
    lr: float = Field(1e-3, gt=0, le=1, description="Learning rate (Adam).")
    lr_decay: float = Field(
        0.0,
        ge=0,
        le=1,
        description="Share of the last steps over which the learning rate falls linearly to 0 (0: constant; "
        "1: from the first step), so the kept epochs are not caught mid-jump.",
    )
    width: int = Field(16, ge=4, le=256, description="Base channel width of each feature extractor.")
    val_fraction: float = Field(0.2, ge=0.05, le=0.5, description="Share of training videos held out for validation.")
    normal_predictions: bool = Field(
        True,
        description="Also use the normal generator's predictions as normal examples (teaches the detector "
        "that 'generated' is not 'abnormal').",
    )
    inputs: Literal["frames", "frames+error"] = Field(
        "frames",
        description="What the detector sees: frames (the past frames and the candidate), or frames+error (also "
        "the candidate minus the normal generator's prediction; needs the GAN: --gan, or the one the "
        "pseudo-anomalies name). On Ped2 frames+error was no better (docs/results-history.md).",
    )
    head: Literal["pooled", "regions"] = Field(
        "pooled",
        description="How the detector turns its feature maps into a frame's logit: pooled (pool each feature "
        "over the frame, classify the pooled vector) or regions (classify each region of about 31x31 input pixels "
        "on its own and keep the largest logit, so one abnormal object in a crowd sets the frame's score; the cpu and "
        "paper presets' choice since 0.12.0, docs/results-history.md).",
    )
    select_by: Literal["probe", "pseudo"] = Field(
        "probe",
        description="Which held-out AUC picks the kept epoch: probe (real next frame against the frame "
        "--probe-skip steps later, on the validation videos; the same for every method) or pseudo (the "
        "method's own pseudo-anomalies, which a detector can ace through an artefact). A tie goes to the other AUC, "
        "then to the later epoch.",
    )
    min_val_acc: float = Field(
        0.75,
        ge=0,
        le=1,
        description="An epoch whose held-out accuracy (val_acc, at P = 0.5) is below this is kept only if no "
        "epoch reaches it: such an epoch was caught mid-jump, with its AUCs still near 1 "
        "(docs/results-history.md, 0.10.0).",
    )
    probe_skip: int = Field(3, ge=2, le=16, description="Frame stride of the probe's too-fast candidates.")
    probe_n: int = Field(256, ge=8, le=100_000, description="Positions of the probe (each: one real, one fast).")
    members: int = Field(
        1,
        ge=1,
        le=16,
        description="Detectors trained with seeds seed, seed+1, ... on the same examples; their logits are "
        "averaged, which steadies a score that one detector makes noisy from run to run.",
    )
    member_splits: bool = Field(
        False,
        description="Each member holds out its own validation videos (those of its seed) instead of all "
        "holding out the first member's: the members then differ in more than their initial weights, and "
        "together they learn from every training video.",
    )
    seed: int = Field(0, description="Random seed.")


class EvaluateConfig(StageConfig):
    alpha: float = Field(
        0.4, ge=0, le=1, description="Weight of the psnr score in the combined score (0.5 before 0.20.0)."
    )
    fusion: Literal["softplus", "linear"] = Field(
        "softplus",
        description="How the combined score adds the two parts' z-scores: through softplus, so a part that finds a "
        "frame more normal than usual pulls it down little (since 0.21.0), or as they are (linear, before).",
    )
    smooth: float = Field(0.0, ge=0, le=100, description="Temporal Gaussian smoothing sigma in frames (0: off).")
    psnr_window: float = Field(
        1.0,
        gt=0,
        le=1,
        description="The psnr score from the worst window of this fraction of the frame's side, windows "
        "overlapping by half; 1: the whole frame (FFP).",
    )
    psnr_pool: int = Field(
        1,
        ge=1,
        le=16,
        description="The psnr score compares prediction and frame average-pooled over KxK pixels (the error is "
        "pooled before it is squared, so a one-pixel misalignment cancels); 1: full resolution (FFP). On Ped2 "
        "2 lowered the psnr score's AUC (docs/results-history.md).",
    )
    flip: bool = Field(
        True,
        description="Also score each test clip mirrored left-right and take the mean of the detector's two logits "
        "(test-time flip; the detector's cost doubles). On Ped2 it raised the detector's AUC on every seed measured "
        "(docs/results-history.md); turn it off for a scene whose normal motion is not the same mirrored.",
    )
    reverse: bool = Field(
        False,
        description="Also score each test window played backwards (and, with flip, mirrored too) and take the mean "
        "of all its views' logits; for a detector that reads frames alone (vgisgan/views.py). The detector's cost "
        "doubles again. Off by default since 0.19.1: on three fresh Ped2 seeds it moved the combined score by "
        "+0.03, +0.33 and -0.49 (docs/results-history.md).",
    )
    cell_levels: bool = Field(
        True,
        description="Score each region of a regions detector against its own normal level (its mean logit on the "
        "training videos the detector held out, measured by train-detector since 0.18.0) instead of as it is, so a "
        "rise at a quiet edge counts as much as one on the busy walkway (docs/architecture.md). Detectors without "
        "levels are scored as they are.",
    )
    batch_size: int = Field(32, ge=1, le=4096, description="Clips per batch.")
    plots: bool = Field(
        False,
        description="Write PNG plots and an index.html; with a regions detector, also where it fires on each "
        "video's highest-scoring frame.",
    )
