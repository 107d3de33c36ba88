"""The detector's examples: candidates, labels and the positions whose past they follow.

For each pseudo-anomaly: its past T frames with (a) the pseudo-anomaly, label 1, (b) the real next frame,
label 0, and (c) optionally the normal generator's prediction, label 0, so that "looks generated" is not a
shortcut to "abnormal". A fast-forward pseudo-anomaly's past is every stride-th frame; its real-frame
counterpart (b) then has the normal past of the same frame (stride 1), since with the fast past the real
frame is the pseudo-anomaly itself. A detector of `inputs = "frames+error"` also reads, for every example, the normal
generator's prediction for its past (computed once per position, kept as uint8 like the frames). Whole
training videos are held out for validation and for the probe: no test data is touched.
"""

from __future__ import annotations

import csv

import numpy as np
import torch

from vgisgan.config import DetectorConfig
from vgisgan.data.cache import FrameCache
from vgisgan.data.clips import to_tensor, to_uint8
from vgisgan.errors import VgisganError
from vgisgan.methods import pasts, real_targets
from vgisgan.probe import probe_rows
from vgisgan.progress import Notes, Progress
from vgisgan.store import Artifact, Store


class Examples:
    """Candidates (uint8), their labels, the rows whose past frames they follow, and the stride of that past."""

    def __init__(
        self,
        cache: FrameCache,
        rows: np.ndarray,
        pseudo: np.ndarray,
        normal: np.ndarray | None,
        strides: np.ndarray | None = None,
    ):
        fast = np.ones(len(rows), np.int64) if strides is None else np.asarray(strides, np.int64)
        parts = [(pseudo, 1, fast), (real_targets(cache, rows), 0, np.ones_like(fast))]
        parts += [(normal, 0, fast)] if normal is not None else []  # a prediction follows the past it was made from
        self.candidates = np.concatenate([p for p, _, _ in parts])  # (M, H, W, C)
        self.labels = np.concatenate([np.full(len(p), y, np.float32) for p, y, _ in parts])
        self.rows = np.concatenate([rows for _ in parts])
        self.strides = np.concatenate([s for _, _, s in parts])  # (M,)
        self.cache = cache
        self.predictions: np.ndarray | None = None  # (U, H, W, C) uint8, one per distinct row
        self.prediction_of: np.ndarray | None = None  # (M,) index into predictions

    @staticmethod
    def _of(
        cache: FrameCache, candidates: np.ndarray, labels: np.ndarray, rows: np.ndarray, strides: np.ndarray
    ) -> "Examples":
        out = object.__new__(Examples)
        out.candidates, out.labels, out.rows, out.strides, out.cache = candidates, labels, rows, strides, cache
        out.predictions = out.prediction_of = None
        return out

    def subset(self, mask: np.ndarray) -> "Examples":
        return Examples._of(self.cache, self.candidates[mask], self.labels[mask], self.rows[mask], self.strides[mask])

    @staticmethod
    def concat(parts: list["Examples"]) -> "Examples":
        if len(parts) == 1:
            return parts[0]
        return Examples._of(
            parts[0].cache,
            np.concatenate([p.candidates for p in parts]),
            np.concatenate([p.labels for p in parts]),
            np.concatenate([p.rows for p in parts]),
            np.concatenate([p.strides for p in parts]),
        )

    @torch.no_grad()
    def add_predictions(self, g_normal: torch.nn.Module, t_past: int, batch: int, device: torch.device) -> None:
        """The normal generator's prediction for each example's past; the detector then reads the error."""
        keys = np.column_stack([self.rows, self.strides])  # (M, 3): video, frame, stride of the past
        distinct, self.prediction_of = np.unique(keys, axis=0, return_inverse=True)
        self.prediction_of = self.prediction_of.reshape(-1)
        out = [
            to_uint8(g_normal(pasts(self.cache, d[:, :2], t_past, d[:, 2]).to(device)))
            for d in (distinct[i : i + batch] for i in range(0, len(distinct), batch))
        ]
        self.predictions = np.concatenate(out)

    def batch(self, idx: np.ndarray, t_past: int) -> tuple[tuple[torch.Tensor, ...], torch.Tensor]:
        """The detector's inputs (past, candidate[, prediction]) and the labels of examples `idx`."""
        inputs = (pasts(self.cache, self.rows[idx], t_past, self.strides[idx]), to_tensor(self.candidates[idx]))
        if self.predictions is not None:
            inputs += (to_tensor(self.predictions[self.prediction_of[idx]]),)
        return inputs, torch.from_numpy(self.labels[idx])


def read_pseudo(path, cache: FrameCache) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
    """rows (N, 2), pseudo-anomalies (N, H, W, C), normal predictions or None, and the strides (N,) of their
    pasts (sets made before 0.15.0 have no stride column: their pasts are all at stride 1)."""
    with open(path / "sources.csv", newline="") as f:
        table = list(csv.DictReader(f))
    rows = np.array([(int(r["video_index"]), int(r["frame"])) for r in table], np.int64).reshape(-1, 2)
    strides = np.array([int(r.get("stride") or 1) for r in table], np.int64)
    pseudo = np.load(path / "pseudo.npy", allow_pickle=False)
    normal = np.load(path / "normal.npy", allow_pickle=False) if (path / "normal.npy").exists() else None
    if pseudo.shape[1:] != (*cache.size, cache.channels):
        raise VgisganError(
            f"{path}: pseudo-anomalies are {pseudo.shape[1:]} but the frame cache holds "
            f"{(*cache.size, cache.channels)} frames: pass the matching --frames"
        )
    return rows, pseudo, normal, strides


def load_examples(arts: list[Artifact], frames: Artifact, cache: FrameCache, normal_predictions: bool):
    """The examples of every pseudo artifact, which must share the frame cache and the number of past frames."""
    t_past = int(arts[0].manifest.summary["t_past"])
    parts = []
    for art in arts:
        made_from = next((i.content_hash for i in art.manifest.inputs if i.role == "frames"), None)
        if made_from != frames.manifest.content_hash:
            raise VgisganError(f"{art.ref} was made from another frame cache than {frames.ref}: generate it again")
        if int(art.manifest.summary["t_past"]) != t_past:
            raise VgisganError(
                f"{art.ref} follows {art.manifest.summary['t_past']} past frames but {arts[0].ref} follows "
                f"{t_past}: generate it again with --t-past {t_past}"
            )
        rows, pseudo, normal, strides = read_pseudo(art.path, cache)
        parts.append(Examples(cache, rows, pseudo, normal if normal_predictions else None, strides))
    return Examples.concat(parts)


def split_videos(n_videos: int, fraction: float, seed: int) -> np.ndarray:
    """Indices of the training videos held out for validation (at least one, never all)."""
    if n_videos < 2:
        raise VgisganError("validation needs at least 2 training videos (whole videos are held out)")
    k = min(max(1, round(n_videos * fraction)), n_videos - 1)
    return np.random.default_rng(seed).permutation(n_videos)[:k]


def predictor_gan(store: Store, gan_ref: str | None, arts: list[Artifact], frames: Artifact, t_past: int) -> Artifact:
    """The GAN whose normal predictions a frames+error detector reads: --gan, else the one the pseudo-anomalies name."""
    ref = gan_ref or next((i.ref for a in arts for i in a.manifest.inputs if i.role == "gan"), None)
    if ref is None:
        raise VgisganError(
            f"--inputs frames+error reads the normal generator's predictions, but none of "
            f"{', '.join(a.ref for a in arts)} was made with a GAN: pass --gan"
        )
    gan = store.resolve(ref, "gan")
    if not any(i.role == "frames" and i.content_hash == frames.manifest.content_hash for i in gan.manifest.inputs):
        raise VgisganError(f"{gan.ref} was trained on another frame cache than {frames.ref}: pass the matching --gan")
    if int(gan.manifest.config["model"]["t_past"]) != t_past:
        raise VgisganError(
            f"{gan.ref} predicts from {gan.manifest.config['model']['t_past']} past frames but the pseudo-anomalies "
            f"follow {t_past}: generate them again with that GAN"
        )
    return gan


def add_gan_predictions(
    parts: list[Examples | None], gan: Artifact, t_past: int, batch: int, device: torch.device, progress: Progress
) -> None:
    """Load `gan`'s normal generator and give each set of examples its predictions (None: no set)."""
    from vgisgan.gan import load_generators

    _, g_normal, _ = load_generators(gan.path, gan.manifest.config, device)
    for i, part in enumerate(parts):
        if part is not None:
            part.add_predictions(g_normal, t_past, batch, device)
        progress("normal predictions", i + 1, len(parts))


def split_examples(
    examples: Examples, cache: FrameCache, cfg: DetectorConfig, t_past: int, where: str, notes: Notes
) -> tuple[Examples, Examples, Examples | None]:
    """Training examples, validation examples and the probe, the last two from whole held-out videos."""
    held_out = split_videos(len(cache.videos("train")), cfg.val_fraction, cfg.seed)
    is_val = np.isin(examples.rows[:, 0], held_out)
    train, val = examples.subset(~is_val), examples.subset(is_val)
    if len(train.labels) == 0 or len(val.labels) == 0:
        raise VgisganError(f"{where}: too few pseudo-anomalies to hold out validation videos; generate more")
    found = probe_rows(cache, held_out, t_past, cfg.probe_skip, cfg.probe_n, cfg.seed)
    probe = Examples(cache, found[0], found[1], None) if found else None
    notes(
        f"{len(train.labels)} training, {len(val.labels)} validation and "
        f"{len(probe.labels) if probe else 'no'} probe examples "
        f"(validation videos: {', '.join(cache.videos('train')[i].name for i in sorted(held_out))})"
    )
    return train, val, probe
