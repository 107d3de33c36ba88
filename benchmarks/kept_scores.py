"""Per-frame scores kept beside a run's metrics, and fusion.py's AUCs read back from them.

    python benchmarks/kept_scores.py keep --store STORE [--eval REF] --out docs/runs/ped2-cpu/scores/seedS.csv
    python benchmarks/kept_scores.py score FILE ... --store FRAMES_STORE [--frames REF] [--alpha 0.4 0.5]
                                           [--fusion linear softplus]

A run's store lives where it ran and goes with the machine; docs/runs keeps only its metrics, so a later change to
how the two scores are combined could be tried on new runs alone. `keep` copies an eval's scores.csv without its
label column (the labels are the dataset's, not ours to republish). `score` joins the labels back by (video, frame)
from a frames artifact of the same dataset (`vgisgan prepare ped2 --source ...` makes one in seconds; any preset:
labels do not depend on the frame size), exactly as `evaluate` joins them, and prints what fusion.py prints for a
store: the micro AUC with per-video normalisation of psnr, detector, the fusions and their margins over psnr.
The AUCs read test labels: like fusion.py's, they diagnose, they choose nothing.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from fusion import fusion_aucs  # benchmarks/fusion.py, beside this script

from vgisgan.data.cache import FrameCache
from vgisgan.errors import VgisganError
from vgisgan.metrics import FUSIONS
from vgisgan.scores import join_labels, read_scores, write_scores
from vgisgan.store import Store


def keep(scores_csv: Path, out: Path) -> None:
    """scores_csv as written by `evaluate` (0.16.0 or later: score_detector is the logit), its labels left out."""
    table = read_scores(scores_csv)
    if table["score_psnr"] is None or table["score_detector"] is None:
        raise VgisganError(f"{scores_csv}: keeps scores of runs with both parts (psnr and detector)")
    out.parent.mkdir(parents=True, exist_ok=True)
    write_scores({**table, "label": None}, out)


def eval_to_keep(store: Store, ref: str | None) -> Path:
    """The scores.csv of eval `ref`; without a ref, of the store's only evaluation. With several there is no safe
    default: a variant made beside a run (e.g. `run --name`) is newer than the run's own, so "the latest" would
    keep the variant's scores under the run's name."""
    if ref is None:
        evals = store.list("eval")
        if len(evals) > 1:
            names = ", ".join(a.ref for a in evals)
            raise VgisganError(f"{store.root} holds {len(evals)} evaluations ({names}): name one with --eval")
    return store.resolve(ref, "eval").file("scores.csv")


def with_labels(kept_csv: Path, cache: FrameCache) -> dict:
    """A kept table with the labels of the cache's test videos joined back by (video, frame)."""
    table = read_scores(kept_csv)
    names = {info.name for info in cache.videos("test")}
    missing = sorted(set(table["video"]) - names)
    if missing:
        raise VgisganError(f"{kept_csv}: videos {missing[:3]} are not test videos of {cache.folder}: wrong dataset?")
    labels = join_labels(table, cache)
    if labels is None:
        raise VgisganError(f"{cache.folder} has no test labels to join to {kept_csv}")
    return {**table, "label": labels}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="command", required=True)
    k = sub.add_parser("keep", help="copy an eval's scores.csv without labels")
    k.add_argument("--store", required=True)
    k.add_argument("--eval", default=None, help="eval artifact (default: the store's only one)")
    k.add_argument("--out", type=Path, required=True)
    s = sub.add_parser("score", help="AUCs of kept scores, labels joined from a frames artifact")
    s.add_argument("files", nargs="+", type=Path)
    s.add_argument("--store", required=True, help="a store with a frames artifact of the same dataset")
    s.add_argument("--frames", default=None, help="frames artifact (default: the latest)")
    s.add_argument("--gamma", nargs="+", type=float, default=[0.0, 1.0, 2.0])
    s.add_argument("--alpha", nargs="+", type=float, default=[], help="also evaluate's sum at these psnr weights")
    s.add_argument("--fusion", nargs="+", choices=FUSIONS, default=["linear"], help="evaluate's sums for --alpha")
    args = ap.parse_args()
    try:
        run(args)
    except VgisganError as e:  # bad input: one line, as the CLI says it
        raise SystemExit(f"error: {e}") from e


def run(args: argparse.Namespace) -> None:
    store = Store(args.store)
    if args.command == "keep":
        keep(eval_to_keep(store, args.eval), args.out)
        return
    cache = FrameCache(store.resolve(args.frames, "frames").path)
    for path in args.files:
        aucs = fusion_aucs(with_labels(path, cache), args.gamma, args.alpha, args.fusion)
        print(json.dumps({"file": str(path), **{key: round(v, 2) for key, v in aucs.items()}}))


if __name__ == "__main__":
    main()
