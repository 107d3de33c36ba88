"""Two scoring candidates that need no retraining, measured on the test labels of a store `vgisgan run` filled.

    python benchmarks/cell_fusion.py --store STORE [--name ped2] [--eval ped2@v1] [--threads 1]

D  the detector's score on its own scale: the members' mean logit instead of its sigmoid, P(abnormal). Only the
   micro AUC with per-video normalisation can change (min-max of P and of the logit pool videos differently).
   D2: the combined score from that logit too, not from logit(P) clipped at 1e-6 from 0 and 1 (P in float32 is 1.0
   above a logit of about 16.6, so `evaluate`'s combined ties the most confident frames).
K  fusion cell by cell: each member's logit of each cell of the regions head, plus the log10 of the normal
   generator's squared error over the window twice the cell's side around it (each z over all test cells); a
   frame's value is the mean over members of its largest sum, and K = 0.5 z(psnr score) + 0.5 z(that value).
   A cell where the detector fires *and* the prediction is poor then counts more than two such cells apart.

Both use only the scores (no label enters a score); the labels measure them. Prints, as JSON, each score's
micro AUC with per-video normalisation, without it, and macro AUC, and the evaluate artifact's own combined AUC
beside the ones recomputed here: it must equal D2's for an eval of 0.16.0 (or a later one with `--no-flip`), and
"combined (before 0.16.0)" for an older one (the same models read the same test frames). An eval with 0.17.0's
test-time flip, the default since, scores the detector otherwise and matches neither.
"""

from __future__ import annotations

import json

import numpy as np
import torch
import torch.nn.functional as F
from store_options import open_store, store_parser  # benchmarks/store_options.py, beside this script

from vgisgan.data.cache import FrameCache
from vgisgan.data.clips import to_tensor, to_uint8
from vgisgan.gan import load_generators
from vgisgan.losses import psnr
from vgisgan.metrics import combine, logit, score_metrics, standardize
from vgisgan.models.detector import cell_logits, reads_prediction
from vgisgan.scores import join_labels
from vgisgan.stages.train_detector import load_detector


def window_error(prediction: torch.Tensor, target: torch.Tensor, cells: tuple[int, int]) -> torch.Tensor:
    """log10 of the mean squared error ([0, 1] scale) over the window twice a cell's side around each cell. (B, h, w)"""
    err = (((prediction - target) / 2) ** 2).mean(dim=1, keepdim=True)  # (B, 1, H, W)
    side = err.shape[-1] // cells[1]
    pooled = F.avg_pool2d(err, 2 * side, side, padding=side // 2, count_include_pad=False)  # (B, 1, h, w)
    return torch.log10(pooled[:, 0].clamp_min(1e-10))


@torch.no_grad()
def cell_table(cache: FrameCache, gan, det, batch: int) -> dict[str, np.ndarray]:
    """Per test frame: video, frame, psnr; per cell: members' logits (N, M, h, w) and window errors (N, h, w)."""
    device = torch.device("cpu")
    model, g_normal, _ = load_generators(gan.path, gan.manifest.config, device)
    detector = load_detector(det.path, det.manifest.config, device)
    t, reads = model.t_past, reads_prediction(det.manifest.config)
    if det.manifest.config["t_past"] != t:
        raise SystemExit("this script assumes the GAN and the detector read the same number of past frames")
    rows: dict[str, list] = {"video": [], "frame": [], "psnr": [], "logits": [], "errors": []}
    for i, info in enumerate(cache.videos("test")):
        x = to_tensor(np.asarray(cache.video("test", i)))  # (L, C, H, W)
        for start in range(t, len(x), batch):
            pos = np.arange(start, min(start + batch, len(x)))
            past = torch.stack([x[p - t : p].flatten(0, 1) for p in pos])  # (B, T*C, H, W)
            target, prediction = x[pos], g_normal(past).float()
            logits = cell_logits(detector, past, target, to_tensor(to_uint8(prediction)) if reads else None)
            rows["video"] += [info.name] * len(pos)
            rows["frame"].append(pos)
            rows["psnr"].append(psnr(prediction, target).numpy())
            rows["logits"].append(logits.float().numpy())
            rows["errors"].append(window_error(prediction, target, logits.shape[-2:]).numpy())
    return {k: (np.array(v, dtype=object) if k == "video" else np.concatenate(v)) for k, v in rows.items()}


def candidate_scores(table: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    logits, errors = table["logits"], table["errors"]  # (N, M, h, w), (N, h, w)
    frame_logit = logits.max(axis=(2, 3)).mean(axis=1)  # what the detector's forward computes
    p_abnormal = 1 / (1 + np.exp(-frame_logit))
    z_cells = (logits - logits.mean()) / logits.std() + ((errors - errors.mean()) / errors.std())[:, None]
    score_psnr = -table["psnr"]
    return {
        "psnr": score_psnr,
        "detector (P)": p_abnormal,
        "D: detector (logit)": frame_logit,
        "combined (before 0.16.0)": combine(score_psnr, logit(p_abnormal), 0.5, fusion="linear"),  # P clipped
        "D2: combined (raw logit)": combine(score_psnr, frame_logit, 0.5, fusion="linear"),  # 0.16.0 to 0.19.1
        "K: cell fusion": 0.5 * standardize(score_psnr) + 0.5 * standardize(z_cells.max(axis=(2, 3)).mean(axis=1)),
    }


def main() -> None:
    args = store_parser(__doc__, "the evaluate artifact whose combined AUC is checked").parse_args()
    store, cache = open_store(args)
    gan = store.resolve(f"gan/{args.name}@v1", "gan")
    det = store.resolve(f"detector/{args.name}@v1", "detector")
    table = cell_table(cache, gan, det, args.batch)
    labels = join_labels(table, cache)
    out = {}
    for name, score in candidate_scores(table).items():
        m = score_metrics(labels, score, table["video"], table["frame"])
        out[name] = {
            "micro_per_video": round(100 * m["per-video"]["micro_auc"], 2),
            "micro_none": round(100 * m["none"]["micro_auc"], 2),
            "macro": round(100 * m["per-video"]["macro_auc"], 2),
        }
    metrics = json.loads((store.resolve(f"eval/{args.eval}", "eval").path / "metrics.json").read_text())
    out["evaluate's combined (micro per-video)"] = round(100 * metrics["score_combined"]["per-video"]["micro_auc"], 2)
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
