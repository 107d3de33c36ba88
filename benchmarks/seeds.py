"""Seed statistics of the Ped2 issue's targets, from `vgisgan compare --csv` tables kept in docs/runs/.

    python benchmarks/seeds.py docs/runs/ped2-cpu/*.csv [--psnr-target 93] [--margin-target 1] [--against NAME]
        [--any-cpu] [--metric micro_auc_per_video|micro_auc_none|macro_auc_per_video|eer_per_video] [--overview]

Each CSV holds compare's rows (one per evaluation and score) of one or more runs. Rows are grouped by the
evaluation's name (`eval/NAME@vN` -> NAME: `ped2` for `vgisgan run ped2`, or the `--name` of a variant) and,
within a group, keyed by seed. For every group the script prints, seed by seed and as mean ± sample sd, the
micro AUC with per-video normalisation of psnr, detector and combined, the margin combined − psnr (from the
unrounded values), and on how many seeds each target holds. With three seeds or more it also prints how the margin
moves with psnr from seed to seed (Pearson r and the least-squares slope): a margin that falls as psnr rises says
that the combined score does not keep up with a better predictor. With `--against NAME` it also prints, for every
other group, the paired differences from group NAME on the seeds both have (a variant made beside each run, e.g.
a detector without the GAN's set, against the run's own `ped2`). A pair is only a pair when both runs ran on one
machine: another CPU gives other float sums, and on Ped2 that alone moved a seed's detector AUC by up to 1.5
points. So where compare's `cpu` column (since 0.22.0) names two processors for one seed, the pairing is refused
unless `--any-cpu` is given; seeds whose CPU was not recorded are listed as unchecked, and a group whose seeds ran
on several CPUs says which ran where. Nothing is re-scored: the figures are the evaluations' own. `--metric`
summarises another of compare's columns the same way; the targets are stated for the default, so they are counted
only for it. `--overview` prints instead one row per group: the mean over its seeds of each score under each of
the four metrics (the per-method table of docs/RESULTS.md).
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from collections import defaultdict

SCORES = ("psnr", "detector", "combined")
METRICS = ("micro_auc_per_video", "micro_auc_none", "macro_auc_per_video", "eer_per_video")


def read_rows(paths: list[str]) -> list[dict]:
    rows = []
    for path in paths:
        with open(path, newline="") as f:
            rows += [dict(r, file=path) for r in csv.DictReader(f)]
    return rows


def eval_name(ref: str) -> str:
    """'eval/ped2@v3' -> 'ped2'."""
    return ref.removeprefix("eval/").split("@")[0]


def by_group_and_seed(rows: list[dict], metric: str = METRICS[0]) -> dict[str, dict[str, dict]]:
    """{name: {seed: {"psnr": x, "detector": x, "combined": x, "version": v, "cpu": c}}} with x the `metric` column
    and c the processor ("" in files from before compare had the column); a seed twice is an error."""
    groups: dict[str, dict[str, dict]] = defaultdict(lambda: defaultdict(dict))
    for r in rows:
        if r["score"] not in SCORES:
            continue
        entry = groups[eval_name(r["eval"])][r["seed"]]
        if r["score"] in entry:
            raise SystemExit(f"error: {r['file']}: seed {r['seed']} of {r['eval']} appears twice; keep one row per run")
        entry[r["score"]] = float(r[metric])
        entry["version"] = r.get("version", "")
        entry["cpu"] = r.get("cpu") or ""
    return groups


def summary(seeds: dict[str, dict], psnr_target: float | None, margin_target: float | None) -> list[str]:
    """Markdown lines: one row per seed, then mean ± sd, the target counts (where targets are given) and (three
    seeds or more) how the margin moves with psnr."""
    complete = {s: e for s, e in seeds.items() if all(k in e for k in SCORES)}
    order = _in_seed_order(complete)
    margins = {s: complete[s]["combined"] - complete[s]["psnr"] for s in order}
    lines = ["| seed | version | psnr | detector | combined | combined − psnr |", "|---|---|---|---|---|---|"]
    for s in order:
        aucs = " | ".join(f"{100 * complete[s][k]:.2f}" for k in SCORES)
        lines.append(f"| {s} | {complete[s]['version']} | {aucs} | {100 * margins[s]:+.3f} |")
    if len(order) >= 2:
        cells = " | ".join(_mean_sd([complete[s][k] for s in order]) for k in SCORES)
        lines.append(f"| mean ± sd ({len(order)}) | | {cells} | {_mean_sd(list(margins.values()), sign=True)} |")
    if psnr_target is not None and margin_target is not None:
        psnr_ok = [s for s in order if 100 * complete[s]["psnr"] >= psnr_target]
        margin_ok = [s for s in order if 100 * margins[s] >= margin_target]
        lines += [
            "",
            _count(f"psnr ≥ {psnr_target:g}", order, psnr_ok),
            _count(f"combined ≥ psnr + {margin_target:g}", order, margin_ok),
        ]
    elif len(order) >= 3:
        lines.append("")  # the relation line below is not a row of the table
    if len(order) >= 3:
        lines.append(_margin_against_psnr([complete[s]["psnr"] for s in order], list(margins.values())))
    if len({complete[s]["cpu"] for s in order}) > 1:
        lines.append(_seeds_by_cpu(complete, order))
    return lines


def paired(seeds: dict[str, dict], base: dict[str, dict], name: str, base_name: str) -> list[str]:
    """Markdown lines: per seed that both groups have complete, this group's detector and combined AUC minus the
    base group's, then mean ± sd and on how many seeds the combined score is higher than the base's, and which
    seeds were paired across CPUs or without a recorded CPU."""
    order = _common_seeds(seeds, base)
    if not order:
        return [f"{name} against {base_name}: no seed in common"]
    across, unknown = _cpu_checks(seeds, base, order)
    diff = {k: [seeds[s][k] - base[s][k] for s in order] for k in ("detector", "combined")}
    lines = [f"| seed | detector − {base_name} | combined − {base_name} |", "|---|---|---|"]
    lines += [
        f"| {s} | {100 * d:+.2f} | {100 * c:+.2f} |" for s, d, c in zip(order, diff["detector"], diff["combined"])
    ]
    if len(order) >= 2:
        lines.append(
            f"| mean ± sd ({len(order)}) | {_mean_sd(diff['detector'], sign=True)} | "
            f"{_mean_sd(diff['combined'], sign=True)} |"
        )
    higher = sum(c > 0 for c in diff["combined"])
    lines += ["", f"combined above {base_name}'s on {higher} of {len(order)} seeds"]
    if across:
        lines.append(f"paired across CPUs (--any-cpu): {_seed_list(across)}")
    if unknown:
        lines.append(f"CPU not recorded, so not checked to be one machine: {_seed_list(unknown)}")
    return lines


def refuse_pairs_across_cpus(groups: dict[str, dict[str, dict]], base_name: str) -> None:
    """Exit with one error line if any group's seed ran on another CPU than the base group's same seed."""
    base = groups[base_name]
    for name, seeds in sorted(groups.items()):
        if name == base_name:
            continue
        across, _ = _cpu_checks(seeds, base, _common_seeds(seeds, base))
        if across:
            s = across[0]
            raise SystemExit(
                f"error: seed {s}: {name} ran on {seeds[s]['cpu']}, {base_name} on {base[s]['cpu']}; scores depend "
                "on the CPU, so pair runs made on one machine (or pass --any-cpu to pair them anyway)"
            )


def _common_seeds(seeds: dict[str, dict], base: dict[str, dict]) -> list[str]:
    return _in_seed_order(s for s in seeds if s in base and all(k in seeds[s] and k in base[s] for k in SCORES))


def _cpu_checks(seeds: dict[str, dict], base: dict[str, dict], order: list[str]) -> tuple[list[str], list[str]]:
    """(seeds whose two runs name different CPUs, seeds where either run's CPU was not recorded)."""
    unknown = [s for s in order if not (seeds[s]["cpu"] and base[s]["cpu"])]
    across = [s for s in order if s not in unknown and seeds[s]["cpu"] != base[s]["cpu"]]
    return across, unknown


def overview(rows: list[dict]) -> list[str]:
    """Markdown lines: per group, its seeds and each score's mean over them under every metric of METRICS."""
    per_metric = {m: by_group_and_seed(rows, m) for m in METRICS}
    head = " | ".join(f"{k}: micro (per-video) / micro (none) / macro / EER" for k in SCORES)
    lines = [f"| group | seeds | {head} |", "|---|---|---|---|---|"]
    for name, seeds in sorted(per_metric[METRICS[0]].items()):
        order = _in_seed_order(s for s, e in seeds.items() if all(k in e for k in SCORES))
        cells = [
            " / ".join(f"{100 * statistics.mean(per_metric[m][name][s][k] for s in order):.2f}" for m in METRICS)
            for k in SCORES
        ]
        lines.append(f"| {name} | {', '.join(order)} | {' | '.join(cells)} |")
    return lines


def _in_seed_order(seeds) -> list[str]:
    """Seeds are the CSV's strings: numeric seeds in numeric order."""
    return sorted(seeds, key=lambda s: (len(s), s))


def _margin_against_psnr(psnr: list[float], margins: list[float]) -> str:
    if len(set(psnr)) == 1 or len(set(margins)) == 1:
        return "margin against psnr: no spread to relate"
    r = statistics.correlation(psnr, margins)
    slope = statistics.linear_regression(psnr, margins).slope  # points of margin per point of psnr (unitless)
    return f"margin against psnr over the seeds: r = {r:+.2f}, slope {slope:+.2f} (points of margin per point of psnr)"


def _seeds_by_cpu(entries: dict[str, dict], order: list[str]) -> str:
    cpus = dict.fromkeys(entries[s]["cpu"] for s in order)  # in the order of their first seed
    parts = [f"{cpu or 'not recorded'}: {_seed_list([s for s in order if entries[s]['cpu'] == cpu])}" for cpu in cpus]
    return "ran on several CPUs: " + "; ".join(parts)


def _seed_list(seeds: list[str]) -> str:
    return ("seed " if len(seeds) == 1 else "seeds ") + ", ".join(seeds)


def _count(target: str, order: list[str], ok: list[str]) -> str:
    missed = ", ".join(f"seed {s}" for s in order if s not in ok) or "none"
    return f"{target}: {len(ok)} of {len(order)} seeds; missed by {missed}"


def _mean_sd(values: list[float], sign: bool = False) -> str:
    mean, sd = 100 * statistics.mean(values), 100 * statistics.stdev(values)
    return f"{mean:+.2f} ± {sd:.2f}" if sign else f"{mean:.2f} ± {sd:.2f}"


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tables", nargs="+", help="CSV files written by `vgisgan compare --csv`")
    ap.add_argument("--psnr-target", type=float, default=93.0, help="psnr micro AUC target, in %% (default 93)")
    ap.add_argument("--margin-target", type=float, default=1.0, help="combined − psnr target, in points (default 1)")
    ap.add_argument("--against", metavar="NAME", help="also print every other group's paired differences from this one")
    ap.add_argument(
        "--any-cpu", action="store_true", help="pair runs even where their recorded CPUs differ (they are listed)"
    )
    ap.add_argument("--metric", choices=METRICS, default=METRICS[0], help="compare's column to summarise")
    ap.add_argument("--overview", action="store_true", help="one row per group: every score's mean under every metric")
    args = ap.parse_args(argv)
    targets = (args.psnr_target, args.margin_target) if args.metric == METRICS[0] else (None, None)
    try:
        rows = read_rows(args.tables)
        if args.overview:
            print("\n".join(overview(rows)))
            return
        groups = by_group_and_seed(rows, args.metric)
    except (OSError, KeyError, ValueError) as e:
        raise SystemExit(f"error: {e}: pass CSV files written by `vgisgan compare --csv`") from e
    if args.against is not None and args.against not in groups:
        raise SystemExit(f"error: --against {args.against}: no such group (groups: {', '.join(sorted(groups))})")
    if args.against is not None and not args.any_cpu:
        refuse_pairs_across_cpus(groups, args.against)
    for name in sorted(groups):
        print(f"## {name}\n" if args.metric == METRICS[0] else f"## {name} ({args.metric})\n")
        print("\n".join(summary(groups[name], *targets)))
        print()
        if args.against is not None and name != args.against:
            print("\n".join(paired(groups[name], groups[args.against], name, args.against)))
            print()
    if not groups:
        print("no psnr/detector/combined rows in these files", file=sys.stderr)


if __name__ == "__main__":
    main()
