"""The detector: P(abnormal) of a candidate frame given the T frames before it.

As in the thesis, two feature extractors look at the same input, one meant to pick up normal and one
abnormal evidence, and a classifier sits on their concatenated features. The input stacks the past frames,
the candidate and the candidate minus the last past frame (the motion cue the detector should learn from);
with `error_input`, also the candidate minus the normal generator's prediction from the same past, so the
detector judges where and how the prediction failed (the psnr score only sees how much, over the whole
frame). Max-pooling over space keeps small, local anomalies from being averaged away.

Two heads read the feature maps. `pooled` pools each feature over the frame, then classifies the pooled
vector: the maxima it combines may come from different places. `regions` classifies every cell of the
feature map on its own (a 1x1-conv classifier, each cell seeing about 31x31 input pixels) and takes the
frame's logit as the largest cell's, trained as multiple-instance learning from frame labels alone: one
abnormal walker among many normal ones then sets the frame's score, and the crowd around it does not.
"""

from __future__ import annotations

import torch
from torch import nn


def encoder(c_in: int, w: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for c_out in (w, 2 * w, 4 * w, 4 * w):
        layers += [
            nn.Conv2d(c_in, c_out, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(inplace=True),
        ]
        c_in = c_out
    return nn.Sequential(*layers)


class Detector(nn.Module):
    def __init__(self, channels: int, t_past: int, width: int = 16, error_input: bool = False, head: str = "pooled"):
        super().__init__()
        if head not in ("pooled", "regions"):
            raise ValueError(f"unknown detector head {head!r}")
        self.error_input, self.head = error_input, head
        c_in = (t_past + 2 + int(error_input)) * channels
        self.normal_features = encoder(c_in, width)
        self.anomaly_features = encoder(c_in, width)
        if head == "pooled":  # on (B, 16w): max and mean of both streams
            self.classifier = nn.Sequential(
                nn.Linear(16 * width, 4 * width), nn.ReLU(inplace=True), nn.Linear(4 * width, 1)
            )
        else:  # on (B, 8w, h, w): both streams, cell by cell
            self.classifier = nn.Sequential(
                nn.Conv2d(8 * width, 4 * width, 1), nn.ReLU(inplace=True), nn.Conv2d(4 * width, 1, 1)
            )

    def forward(
        self, past: torch.Tensor, candidate: torch.Tensor, prediction: torch.Tensor | None = None
    ) -> torch.Tensor:
        """past (B, T*C, H, W), candidate and the normal prediction (B, C, H, W) in [-1, 1] -> logits (B,)."""
        maps = self.feature_maps(past, candidate, prediction)
        if self.head == "regions":
            return self.region_logits(maps).amax(dim=(1, 2))
        feats = []
        for h in maps:  # (B, 4w, H/16, W/16)
            feats += [h.amax(dim=(2, 3)), h.mean(dim=(2, 3))]
        return self.classifier(torch.cat(feats, dim=1)).squeeze(1)

    def region_logits(self, maps: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
        """The regions head's logit of each cell: (B, H/16, W/16)."""
        if self.head != "regions":
            raise ValueError("only a detector with the regions head scores cells (this one pools the frame)")
        return self.classifier(torch.cat(maps, dim=1)).squeeze(1)

    def feature_maps(
        self, past: torch.Tensor, candidate: torch.Tensor, prediction: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The two streams' features, each (B, 4w, H/16, W/16)."""
        c = candidate.shape[1]
        parts = [past, candidate, candidate - past[:, -c:]]
        if self.error_input:
            if prediction is None:
                raise ValueError("this detector reads the normal generator's prediction: pass `prediction`")
            parts.append(candidate - prediction)
        x = torch.cat(parts, dim=1)  # (B, (T+2+error)*C, H, W)
        return self.normal_features(x), self.anomaly_features(x)


class FrameDetector(nn.Module):
    """A detector that judges the candidate frame alone, from a discriminator that scores normality
    (OGNet's fine-tuned discriminator): abnormal logit = minus its mean patch logit."""

    def __init__(self, discriminator: nn.Module):
        super().__init__()
        self.discriminator = discriminator

    def forward(
        self, past: torch.Tensor, candidate: torch.Tensor, prediction: torch.Tensor | None = None
    ) -> torch.Tensor:
        return -self.discriminator(candidate).mean(dim=(1, 2, 3))


class DetectorEnsemble(nn.Module):
    """Detectors trained alike from different seeds, their logits averaged.

    One detector's test AUC moved by 2 to 4.5 points between two GPU runs of one seed whose predictors were
    within 0.3 of each other (docs/results-history.md); the mean of a few members is meant to move less.
    """

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(
        self, past: torch.Tensor, candidate: torch.Tensor, prediction: torch.Tensor | None = None
    ) -> torch.Tensor:
        return torch.stack([m(past, candidate, prediction) for m in self.members]).mean(dim=0)  # (B,)


def members_of(model: nn.Module) -> list[nn.Module]:
    """An ensemble's members, or the detector alone."""
    return list(model.members) if isinstance(model, DetectorEnsemble) else [model]


def cell_logits(
    model: nn.Module, past: torch.Tensor, candidate: torch.Tensor, prediction: torch.Tensor | None = None
) -> torch.Tensor:
    """Each member's logit of each cell, (B, M, H/16, W/16), of a regions detector or an ensemble of them.

    The detector's frame logit is the mean over members of each member's largest cell, so it can be computed
    from these maps without a second pass.
    """
    members = members_of(model)
    if not all(isinstance(m, Detector) and m.head == "regions" for m in members):
        raise ValueError("only a detector with the regions head scores cells (this one pools the frame)")
    return torch.stack([m.region_logits(m.feature_maps(past, candidate, prediction)) for m in members], dim=1)


def scores_regions(config: dict) -> bool:
    """Whether a `detector` artifact's detector scores each region (and so can show where it fires)."""
    return config.get("arch", "two-stream") != "ognet" and config.get("head", "pooled") == "regions"


def build_member(config: dict) -> nn.Module:
    """One detector of the kind a `detector` artifact's config describes."""
    if config.get("arch", "two-stream") == "ognet":
        from vgisgan.models.unet import PatchDiscriminator

        return FrameDetector(PatchDiscriminator(config["channels"], config["width"]))
    return Detector(
        config["channels"], config["t_past"], config["width"], reads_prediction(config), config.get("head", "pooled")
    )


def reads_prediction(config: dict) -> bool:
    """Whether a `detector` artifact's detector needs the normal generator's prediction as an input."""
    return config.get("inputs", "frames") == "frames+error"


def build_detector(config: dict) -> nn.Module:
    """The detector a `detector` artifact's config describes: one member, or the ensemble of several."""
    members = config.get("members", 1)
    if members == 1:
        return build_member(config)
    return DetectorEnsemble([build_member(config) for _ in range(members)])
