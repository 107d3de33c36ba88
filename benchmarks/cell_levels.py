"""Cell levels (vgisgan 0.18.0) and reversed views (0.19.0) on a store whose detector had neither, on the test labels.

    python benchmarks/cell_levels.py --store STORE [--name ped2] [--eval ped2@v1] [--threads 1]

Measures the levels of the store's `detector/NAME@v1` as train-detector does since 0.19.0 (each member's mean cell
logit, in each view of the window, on the training videos it held out; vgisgan/levels.py), then scores the test
frames with them as `evaluate` does: with the plain and mirrored views (0.18.0), and with the reversed views too
(0.19.0; vgisgan/views.py). The psnr score and the unlevelled detector score are the eval artifact's own
(scores.csv; it must be scored with the test-time flip and without levels, as 0.17.0 did or `--no-cell-levels
--no-reverse` does), joined by (video, frame); the combined scores weigh z(psnr) and z(detector) by the eval's own
alpha. Prints, as JSON, the micro AUC with per-video normalisation of the detector and combined scores of each, the
margins combined − psnr, and the map of plain levels averaged over the members (h strings of w numbers). No label
enters a score; the labels measure them.
"""

from __future__ import annotations

import json

import numpy as np
import torch
from store_options import open_store, store_parser  # benchmarks/store_options.py, beside this script

from vgisgan.data.cache import FrameCache
from vgisgan.levels import held_out_videos, measure_levels
from vgisgan.metrics import combine, score_metrics
from vgisgan.models.detector import members_of
from vgisgan.scores import join_labels, read_scores
from vgisgan.stages.evaluate import score_video
from vgisgan.stages.train_detector import load_detector
from vgisgan.views import chosen_views

VIEW_SETS = {"with levels": chosen_views(True, False), "with levels, reversed too": chosen_views(True, True)}


def levelled_scores(
    cache: FrameCache, det, batch: int, device: torch.device
) -> tuple[dict[str, dict[tuple[str, int], float]], dict[str, torch.Tensor]]:
    """For each of VIEW_SETS, the detector's levelled score of each test (video, frame); and the measured levels."""
    config = det.manifest.config
    detector, t = load_detector(det.path, config, device), int(config["t_past"])
    levels = measure_levels(members_of(detector), held_out_videos(config, cache), cache, t, batch, device)
    out: dict[str, dict[tuple[str, int], float]] = {name: {} for name in VIEW_SETS}
    for i, info in enumerate(cache.videos("test")):
        frames = np.asarray(cache.video("test", i))
        for name, views in VIEW_SETS.items():
            s = score_video(frames, t, None, 0, detector, t, batch, device, views=views, levels=levels)
            out[name] |= {(info.name, int(f)): float(v) for f, v in zip(s["frame"], s["score_detector"])}
    return out, levels


def main() -> None:
    args = store_parser(__doc__, "the evaluate artifact (flip, no levels) whose scores are reused").parse_args()
    store, cache = open_store(args)
    ev = store.resolve(f"eval/{args.eval}", "eval")
    s = ev.manifest.summary
    if not s.get("flip") or s.get("cell_levels") or s.get("reverse"):
        raise SystemExit(f"{ev.ref} must be scored with the test-time flip, without cell levels and reversed views")
    table = read_scores(ev.file("scores.csv"))
    det = store.resolve(f"detector/{args.name}@v1", "detector")
    levelled, levels = levelled_scores(cache, det, args.batch, torch.device("cpu"))
    labels = join_labels(table, cache)

    def auc(score: np.ndarray) -> float:
        return 100 * score_metrics(labels, score, table["video"], table["frame"])["per-video"]["micro_auc"]

    psnr = auc(table["score_psnr"])
    level_map = [" ".join(f"{float(v):5.1f}" for v in row) for row in levels["plain"].mean(0)]  # h rows of w
    out = {"psnr": round(psnr, 3), "plain levels, members averaged": level_map}
    det_scores = {"without levels": table["score_detector"]} | {
        name: np.array([by_key[(v, int(f))] for v, f in zip(table["video"], table["frame"])])
        for name, by_key in levelled.items()
    }
    for name, det_score in det_scores.items():
        comb = auc(combine(table["score_psnr"], det_score, s.get("alpha", 0.5), fusion=s.get("fusion", "linear")))
        out[name] = {"detector": round(auc(det_score), 3), "combined": round(comb, 3), "margin": round(comb - psnr, 3)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
