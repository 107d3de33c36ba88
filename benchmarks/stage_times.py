"""The time of each stage behind an evaluation, read from the manifests of the artifacts it was made from.

    python benchmarks/stage_times.py --store STORE [--eval ped2@v1 ...]

One markdown row per evaluation (default: every evaluation in the store): prepare, train-gan (iterations/s),
the generate of each pseudo-anomaly set the detector learned, train-detector with the epoch each member kept and
the probe's AUC, and evaluate (frames/s). Every figure is the stage's own `summary` (what `vgisgan artifacts
show REF` prints): time inside the stage, without Python's start-up, which `/usr/bin/time` adds to a whole run.
A stage that was reused by a later run is the same artifact, and so the same time, in every row that names it.
"""

from __future__ import annotations

import argparse

from vgisgan.store import Artifact, Store

HEADER = "| eval | prepare | train-gan | generate | train-detector | kept epochs (members' mean probe AUC) | evaluate |"


def inputs(store: Store, art: Artifact, role: str) -> list[Artifact]:
    """The artifacts `art` names as inputs in `role`, in the manifest's order."""
    return [store.resolve(i.ref, store.parse_ref(i.ref)[0]) for i in art.manifest.inputs if i.role == role]


def stage_row(store: Store, ev: Artifact) -> dict:
    """The seconds of every stage behind `ev`, and the detector's kept epochs and probe AUC. An evaluation of a GAN
    alone, or of a detector alone, has no row for the stage it lacks (None)."""
    dets, gans = inputs(store, ev, "detector"), inputs(store, ev, "gan")
    (frames,) = inputs(store, ev, "frames")
    g = gans[0].manifest.summary if gans else {}
    d = dets[0].manifest.summary if dets else {}
    sets = inputs(store, dets[0], "pseudo") if dets else []
    return {
        "eval": ev.ref,
        "prepare": frames.manifest.summary["seconds"],
        "train_gan": g.get("seconds"),
        "iters_per_s": g.get("iters_per_s"),
        "generate": {p.manifest.name: p.manifest.summary["seconds"] for p in sets},
        "train_detector": d.get("seconds"),
        "best_epochs": d.get("best_epochs"),
        "probe_auc": d.get("probe_auc"),
        "evaluate": ev.manifest.summary["seconds"],
        "frames_per_s": ev.manifest.summary["frames_per_s"],
    }


def markdown(row: dict) -> str:
    gan = f"{row['train_gan']:,.1f} s ({row['iters_per_s']:.3f} it/s)" if row["train_gan"] is not None else "-"
    generate = ", ".join(f"{name} {s:,.1f} s" for name, s in row["generate"].items()) or "-"
    detector = f"{row['train_detector']:,.1f} s" if row["train_detector"] is not None else "-"
    epochs = ", ".join(str(x) for x in row["best_epochs"] or []) or "-"
    probe = f" ({row['probe_auc']:.4f})" if row["probe_auc"] is not None else ""
    return (
        f"| {row['eval']} | {row['prepare']:,.1f} s | {gan} | {generate} | {detector} | {epochs}{probe} "
        f"| {row['evaluate']:,.1f} s ({row['frames_per_s']:.1f} frames/s) |"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", default="artifacts")
    ap.add_argument("--eval", nargs="+", help="eval artifacts (default: every one in the store)")
    args = ap.parse_args()
    store = Store(args.store)
    evals = [store.resolve(r, "eval") for r in args.eval] if args.eval else store.list("eval")
    print(HEADER)
    print("|---" * (HEADER.count("|") - 1) + "|")
    for ev in evals:
        print(markdown(stage_row(store, ev)))


if __name__ == "__main__":
    main()
