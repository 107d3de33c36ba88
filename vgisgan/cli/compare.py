"""`vgisgan compare`: one table of the metrics of several evaluations."""

from __future__ import annotations

from pathlib import Path
from typing import List, Optional

import typer

from vgisgan.cli.common import StoreOption, echo, handle_errors

COLUMNS = [
    "eval",
    "version",
    "method",
    "seed",
    "score",
    "micro_auc_per_video",
    "micro_auc_none",
    "macro_auc_per_video",
    "eer_per_video",
    "smooth",
    "psnr_window",
    "psnr_pool",
    "flip",
    "reverse",
    "cell_levels",
    "alpha",
    "fusion",
    "cpu",
]


def comparison_rows(store, refs: list[str]) -> list[dict]:
    """One row per (evaluation, score), with the method and seed read from the lineage."""
    from vgisgan.errors import VgisganError

    arts = [store.resolve(r, "eval") for r in refs] if refs else store.list("eval")
    if not arts:
        raise VgisganError(f"no eval artifact in {store.root}: run `vgisgan evaluate` first")
    rows = []
    for art in arts:
        s = art.manifest.summary
        method = seed = ""
        for inp in art.manifest.inputs:
            if inp.role == "detector":
                det = store.resolve(inp.ref, "detector")
                # The detector's first pseudo set is its method; more sets (a mix) are joined with "+".
                cfgs = [
                    store.resolve(i.ref, "pseudo").manifest.config for i in det.manifest.inputs if i.role == "pseudo"
                ]
                if cfgs:
                    method, seed = "+".join(c.get("method", "?") for c in cfgs), cfgs[0].get("seed", "")
        for score, m in s["metrics"].items():
            rows.append(
                {
                    "eval": art.ref,
                    "version": art.manifest.vgisgan_version,  # the release that scored it
                    "method": method,
                    "seed": seed,
                    "score": score.removeprefix("score_"),
                    "micro_auc_per_video": m["per-video"]["micro_auc"],
                    "micro_auc_none": m["none"]["micro_auc"],
                    "macro_auc_per_video": m["per-video"]["macro_auc"],
                    "eer_per_video": m["per-video"]["eer"],
                    "smooth": s["smooth"],
                    "psnr_window": s.get("psnr_window", 1.0),  # evaluations before 0.13.0 scored the whole frame
                    "psnr_pool": s.get("psnr_pool", 1),  # and before 0.14.0 at full resolution
                    "flip": s.get("flip", False),  # and before 0.17.0 without the test-time flip
                    "reverse": s.get("reverse", False),  # and before 0.19.0 without the reversed views
                    "cell_levels": s.get("cell_levels", False),  # and before 0.18.0 without cell levels
                    "alpha": s.get("alpha", 0.5),  # and before 0.20.0 at equal weights
                    "fusion": s.get("fusion", "linear"),  # and before 0.21.0 as a linear sum
                    # The processor it was scored on: another CPU rounds differently, and over a whole run that moves
                    # a seed's detector by points (docs/RESULTS.md, "3,600 GAN iterations"); empty where not recorded.
                    "cpu": s.get("cpu", ""),
                }
            )
    return rows


def to_markdown(rows: list[dict]) -> str:
    def cell(column: str, v) -> str:
        percent = column.startswith(("micro", "macro", "eer"))
        return ("n/a" if v != v else f"{100 * v:.2f}") if percent else str(v)

    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(c, r[c]) for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines) + "\n"


@handle_errors
def compare(
    refs: Optional[List[str]] = typer.Argument(None, help="eval/NAME\\[@vN] references; default: every evaluation."),
    markdown: Optional[Path] = typer.Option(None, "--markdown", help="Also write the table as Markdown to this file."),
    csv_path: Optional[Path] = typer.Option(None, "--csv", help="Also write the table as CSV to this file."),
    store: Path = StoreOption,
) -> None:
    """Print one table of every metric of several evaluations of the same test set (AUC and EER in %)."""
    import csv

    from vgisgan.store import Store

    rows = comparison_rows(Store(store), refs or [])
    table = to_markdown(rows)
    echo(table.rstrip())
    if markdown:
        markdown.write_text(table)
    if csv_path:
        with open(csv_path, "w", newline="") as f:
            w = csv.DictWriter(f, COLUMNS)
            w.writeheader()
            w.writerows(rows)
