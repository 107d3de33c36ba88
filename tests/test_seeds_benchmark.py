"""benchmarks/seeds.py: seed statistics of compare tables, checked against values worked out by hand."""

from __future__ import annotations

import csv

import pytest
from conftest import load_benchmark

FIELDS = ["eval", "version", "method", "seed", "score", "micro_auc_per_video"]


def _write(path, rows, cpus=None):
    """Compare's rows for (ref, seed, psnr, detector, combined) tuples; with `cpus` ({ref: processor}) the file has
    compare's `cpu` column, as since 0.22.0, and a ref missing from it gets an empty cell."""
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, FIELDS + ["cpu"] * (cpus is not None))
        w.writeheader()
        for ref, seed, psnr, detector, combined in rows:
            for score, v in (("psnr", psnr), ("detector", detector), ("combined", combined)):
                row = {"eval": ref, "version": "9.9.9", "method": "m", "seed": seed, "score": score}
                w.writerow(row | {"micro_auc_per_video": v} | ({"cpu": cpus.get(ref, "")} if cpus is not None else {}))
    return str(path)


def test_means_margins_and_target_counts_by_hand(tmp_path, capsys):
    seeds = load_benchmark("seeds")
    a = _write(tmp_path / "a.csv", [("eval/ped2@v1", 16, 0.930, 0.88, 0.9390), ("eval/m5@v1", 16, 0.930, 0.90, 0.945)])
    b = _write(tmp_path / "b.csv", [("eval/ped2@v1", 17, 0.940, 0.86, 0.9500), ("eval/m5@v1", 17, 0.940, 0.87, 0.951)])
    seeds.main([a, b])
    out = capsys.readouterr().out
    ped2 = out.split("## ped2")[1]
    # psnr 93.0 and 94.0: mean 93.50, sample sd 1 / sqrt(2) = 0.71; margins +0.90 and +1.00: mean +0.95, sd 0.07
    assert "| 16 | 9.9.9 | 93.00 | 88.00 | 93.90 | +0.900 |" in ped2
    assert "| mean ± sd (2) | | 93.50 ± 0.71 | 87.00 ± 1.41 | 94.45 ± 0.78 | +0.95 ± 0.07 |" in ped2
    assert "psnr ≥ 93: 2 of 2 seeds; missed by none" in ped2  # 93.00 is at the target, not below it
    assert "combined ≥ psnr + 1: 1 of 2 seeds; missed by seed 16" in ped2
    m5 = out.split("## m5")[1].split("## ped2")[0]
    assert "combined ≥ psnr + 1: 2 of 2 seeds; missed by none" in m5


def test_margin_against_psnr_by_hand(tmp_path, capsys):
    seeds = load_benchmark("seeds")
    # psnr 93, 94, 95 with margins +2, +1, +1.5: centred, x = (-1, 0, 1) and y = (0.5, -0.5, 0), so
    # cov = -0.5, Sxx = 2, Syy = 0.5: r = -0.5 / sqrt(2 * 0.5) = -0.50, slope = -0.5 / 2 = -0.25
    psnr_and_combined = {1: (0.93, 0.95), 2: (0.94, 0.95), 3: (0.95, 0.965)}
    runs = [(f"eval/ped2@v{s}", s, p, 0.9, c) for s, (p, c) in psnr_and_combined.items()]
    a = _write(tmp_path / "a.csv", runs)
    seeds.main([a])
    assert "margin against psnr over the seeds: r = -0.50, slope -0.25" in capsys.readouterr().out


def test_two_seeds_print_no_margin_relation(tmp_path, capsys):
    seeds = load_benchmark("seeds")
    a = _write(tmp_path / "a.csv", [("eval/ped2@v1", 1, 0.93, 0.9, 0.95), ("eval/ped2@v2", 2, 0.94, 0.9, 0.95)])
    seeds.main([a])
    assert "margin against psnr" not in capsys.readouterr().out


def test_a_run_recorded_twice_is_refused(tmp_path):
    seeds = load_benchmark("seeds")
    a = _write(tmp_path / "a.csv", [("eval/ped2@v1", 16, 0.93, 0.88, 0.94)])
    b = _write(tmp_path / "b.csv", [("eval/ped2@v2", 16, 0.93, 0.88, 0.94)])
    with pytest.raises(SystemExit, match="seed 16 of eval/ped2@v2 appears twice"):
        seeds.main([a, b])


def test_paired_differences_against_a_group_by_hand(tmp_path, capsys):
    seeds = load_benchmark("seeds")
    # Seeds 1 and 2 have both groups; seed 3 only the base, so it is left out of the pairs.
    # detector: 0.90 - 0.88 = +2.00, 0.85 - 0.89 = -4.00 points: mean -1.00, sd sqrt(18) = 4.24;
    # combined: 0.951 - 0.950 = +0.10, 0.940 - 0.945 = -0.50 points: mean -0.20, sd sqrt(0.18) = 0.42.
    a = _write(
        tmp_path / "a.csv",
        [
            ("eval/ped2@v1", 1, 0.93, 0.88, 0.950),
            ("eval/ped2@v2", 2, 0.93, 0.89, 0.945),
            ("eval/ped2@v3", 3, 0.93, 0.89, 0.945),
            ("eval/alt@v1", 1, 0.93, 0.90, 0.951),
            ("eval/alt@v2", 2, 0.93, 0.85, 0.940),
        ],
    )
    seeds.main([a, "--against", "ped2"])
    alt = capsys.readouterr().out.split("## alt")[1].split("## ped2")[0]
    assert "| 1 | +2.00 | +0.10 |" in alt
    assert "| 2 | -4.00 | -0.50 |" in alt
    assert "| mean ± sd (2) | -1.00 ± 4.24 | -0.20 ± 0.42 |" in alt
    assert "combined above ped2's on 1 of 2 seeds" in alt


def test_against_an_unknown_group_is_refused(tmp_path):
    seeds = load_benchmark("seeds")
    a = _write(tmp_path / "a.csv", [("eval/ped2@v1", 1, 0.93, 0.88, 0.95)])
    with pytest.raises(SystemExit, match="--against nope: no such group"):
        seeds.main([a, "--against", "nope"])


def test_paired_says_so_when_the_groups_share_no_complete_seed(tmp_path, capsys):
    seeds = load_benchmark("seeds")
    # alt has seed 2 only; the base has seed 1, and seed 2 without its combined score.
    a = _write(tmp_path / "a.csv", [("eval/ped2@v1", 1, 0.93, 0.88, 0.95), ("eval/alt@v1", 2, 0.93, 0.90, 0.96)])
    with open(a, "a", newline="") as f:
        csv.writer(f).writerow(["eval/ped2@v2", "9.9.9", "m", 2, "psnr", 0.93])
    seeds.main([a, "--against", "ped2"])
    alt = capsys.readouterr().out.split("## alt")[1].split("## ped2")[0]
    assert "alt against ped2: no seed in common" in alt and "| seed | detector" not in alt


def test_another_metric_is_summarised_the_same_way_without_the_targets(tmp_path, capsys):
    seeds = load_benchmark("seeds")
    path = tmp_path / "a.csv"
    # EER of seeds 1 and 2: psnr 0.20, 0.16 -> 18.00 ± 2.83; combined 0.12, 0.10 -> 11.00 ± 1.41;
    # combined − psnr: -8.00, -6.00 points -> -7.00 ± 1.41. The AUC column must not be read.
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*FIELDS, "eer_per_video"])
        for seed, eers in ((1, (0.20, 0.15, 0.12)), (2, (0.16, 0.14, 0.10))):
            for score, eer in zip(("psnr", "detector", "combined"), eers):
                w.writerow([f"eval/ped2@v{seed}", "9.9.9", "m", seed, score, 0.99, eer])
    seeds.main([str(path), "--metric", "eer_per_video"])
    out = capsys.readouterr().out
    assert out.startswith("## ped2 (eer_per_video)")
    assert "| 1 | 9.9.9 | 20.00 | 15.00 | 12.00 | -8.000 |" in out
    assert "| mean ± sd (2) | | 18.00 ± 2.83 | 14.50 ± 0.71 | 11.00 ± 1.41 | -7.00 ± 1.41 |" in out
    assert "psnr ≥" not in out and "combined ≥" not in out


def test_overview_gives_each_group_its_means_under_every_metric(tmp_path, capsys):
    seeds = load_benchmark("seeds")
    path = tmp_path / "a.csv"
    metrics = ["micro_auc_per_video", "micro_auc_none", "macro_auc_per_video", "eer_per_video"]
    # Group ped2, seeds 1 and 2; each metric's value is base + seed / 100, so every mean is base + 0.015.
    # Group v has seed 1 only, and no combined row for seed 2: that seed is left out of its means.
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*FIELDS[:5], *metrics])
        for ref, seed, scores in (
            ("eval/ped2@v1", 1, ("psnr", "detector", "combined")),
            ("eval/ped2@v2", 2, ("psnr", "detector", "combined")),
            ("eval/v@v1", 1, ("psnr", "detector", "combined")),
            ("eval/v@v2", 2, ("psnr", "detector")),
        ):
            for base, score in zip((0.90, 0.80, 0.95), scores):
                w.writerow([ref, "9.9.9", "m", seed, score, base + seed / 100, base, base - 0.1, 0.1 + seed / 100])
    seeds.main([str(path), "--overview"])
    out = capsys.readouterr().out.splitlines()
    assert out[2] == (
        "| ped2 | 1, 2 | 91.50 / 90.00 / 80.00 / 11.50 | 81.50 / 80.00 / 70.00 / 11.50 "
        "| 96.50 / 95.00 / 85.00 / 11.50 |"
    )
    assert out[3] == (
        "| v | 1 | 91.00 / 90.00 / 80.00 / 11.00 | 81.00 / 80.00 / 70.00 / 11.00 | 96.00 / 95.00 / 85.00 / 11.00 |"
    )


def test_pairs_across_cpus_are_refused_before_anything_is_printed(tmp_path, capsys):
    seeds = load_benchmark("seeds")
    rows = [("eval/ped2@v1", 1, 0.93, 0.88, 0.95), ("eval/alt@v1", 1, 0.93, 0.90, 0.96)]
    a = _write(tmp_path / "a.csv", rows, cpus={"eval/ped2@v1": "Xeon", "eval/alt@v1": "EPYC"})
    with pytest.raises(SystemExit, match="seed 1: alt ran on EPYC, ped2 on Xeon; scores depend on the CPU"):
        seeds.main([a, "--against", "ped2"])
    assert capsys.readouterr().out == ""


def test_any_cpu_pairs_them_and_names_the_seeds_paired_across_or_unchecked(tmp_path, capsys):
    seeds = load_benchmark("seeds")
    # Seed 1: both on Xeon (checked, same machine). Seed 2: Xeon against EPYC. Seed 3: alt's CPU not recorded.
    rows = [(f"eval/{g}@v{s}", s, 0.93, 0.88, 0.95) for g in ("ped2", "alt") for s in (1, 2, 3)]
    cpus = {"eval/ped2@v1": "Xeon", "eval/alt@v1": "Xeon", "eval/ped2@v2": "Xeon", "eval/alt@v2": "EPYC"}
    cpus["eval/ped2@v3"] = "Xeon"
    a = _write(tmp_path / "a.csv", rows, cpus=cpus)
    seeds.main([a, "--against", "ped2", "--any-cpu"])
    alt = capsys.readouterr().out.split("## alt")[1].split("## ped2")[0]
    assert "| mean ± sd (3) | +0.00 ± 0.00 | +0.00 ± 0.00 |" in alt
    assert "paired across CPUs (--any-cpu): seed 2\n" in alt
    assert "CPU not recorded, so not checked to be one machine: seed 3\n" in alt


def test_files_without_the_cpu_column_pair_with_a_note(tmp_path, capsys):
    seeds = load_benchmark("seeds")
    a = _write(tmp_path / "a.csv", [("eval/ped2@v1", 1, 0.93, 0.88, 0.95), ("eval/alt@v1", 1, 0.93, 0.90, 0.96)])
    seeds.main([a, "--against", "ped2"])
    assert "CPU not recorded, so not checked to be one machine: seed 1" in capsys.readouterr().out


def test_a_group_says_which_seeds_ran_on_which_cpu_only_when_it_spans_several(tmp_path, capsys):
    seeds = load_benchmark("seeds")
    rows = [(f"eval/{g}@v{s}", s, 0.93, 0.88, 0.95) for g in ("ped2", "one") for s in (1, 2, 3)]
    cpus = {"eval/ped2@v1": "Xeon", "eval/ped2@v2": "EPYC", "eval/ped2@v3": "Xeon"}
    cpus |= {f"eval/one@v{s}": "EPYC" for s in (1, 2, 3)}
    seeds.main([_write(tmp_path / "a.csv", rows, cpus=cpus)])
    out = capsys.readouterr().out
    assert "ran on several CPUs: Xeon: seeds 1, 3; EPYC: seed 2" in out.split("## ped2")[1]
    assert "ran on several CPUs" not in out.split("## one")[1].split("## ped2")[0]
