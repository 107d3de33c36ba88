"""generate, train-detector, evaluate and run through the CLI; the evaluate path with oracle scores."""

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import invoke, load_benchmark, prepare_tiny

import vgisgan
from vgisgan.config import EvaluateConfig, GanModelConfig
from vgisgan.data.cache import CacheWriter, FrameCache, VideoInfo
from vgisgan.device import cpu_name
from vgisgan.metrics import combine
from vgisgan.scores import join_labels
from vgisgan.stages import evaluate
from vgisgan.store import Store


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    store = tmp_path_factory.mktemp("run")
    r = invoke("run", "synthetic", "--preset", "tiny", "--store", store)
    assert r.exit_code == 0, r.output
    return store, r.output


def test_run_tiny_publishes_every_stage(tiny_run):
    store, output = tiny_run
    for kind in ("frames", "gan", "pseudo", "detector", "eval"):
        assert f"{kind}/synthetic@v1" in output
    assert "micro AUC" in output


def test_run_again_reuses_everything(tiny_run):
    store, _ = tiny_run
    r = invoke("run", "synthetic", "--preset", "tiny", "--store", store)
    assert r.exit_code == 0 and r.output.count("reused") >= 5


def test_evaluate_plots_write_what_they_promise(tiny_run):
    store, _ = tiny_run
    r = invoke("evaluate", "--plots", "--smooth", 2, "--store", store)
    assert r.exit_code == 0, r.output
    art = Store(store).resolve("eval/synthetic", "eval")
    plots = art.path / "plots"
    names = {p.name for p in plots.iterdir()}
    assert {"index.html", "roc.png", "histograms.png", "pseudo_samples.png", "video_01.png", "video_02.png"} <= names
    html = (plots / "index.html").read_text()
    assert all(f'src="{n}"' in html for n in names if n.endswith(".png"))
    with open(art.path / "scores.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["video", "frame", "label", "psnr", "score_psnr", "score_detector", "score_combined"]
    assert int(rows[0]["frame"]) == 4  # the first frame with T=4 past frames
    metrics = json.loads((art.path / "metrics.json").read_text())
    assert set(metrics) == {"score_psnr", "score_detector", "score_combined"}
    assert set(metrics["score_psnr"]) == {"per-video", "none"}
    assert art.manifest.summary["smooth"] == 2.0


def _evaluate_beside_the_run(store, tmp_path, option: str, value, name: str):
    """`evaluate OPTION VALUE` next to the tiny run's own eval: both artifacts, both scores.csv, compare's rows."""
    r = invoke("evaluate", option, value, "--name", name, "--store", store)
    assert r.exit_code == 0, r.output
    arts = [Store(store).resolve(f"eval/{n}", "eval") for n in ("synthetic@v1", name)]
    base, variant = (_read_scores(a.path / "scores.csv") for a in arts)
    assert [(row["video"], row["frame"]) for row in base] == [(row["video"], row["frame"]) for row in variant]
    assert [v["score_detector"] for v in variant] == [b["score_detector"] for b in base]  # only psnr changes
    r = invoke("compare", f"eval/{name}", "--csv", tmp_path / "c.csv", "--store", store)
    assert r.exit_code == 0, r.output
    return arts, base, variant, _read_scores(tmp_path / "c.csv")


def test_evaluate_scores_the_worst_window_with_psnr_window(tiny_run, tmp_path):
    arts, whole, window, compared = _evaluate_beside_the_run(tiny_run[0], tmp_path, "--psnr-window", 0.5, "window")
    # The four non-overlapping windows tile the frame, so the worst one's error is at least the frame's mean.
    assert all(float(w["psnr"]) <= float(f["psnr"]) + 1e-4 for w, f in zip(window, whole))
    assert any(float(w["psnr"]) < float(f["psnr"]) - 0.1 for w, f in zip(window, whole))
    assert arts[1].manifest.summary["psnr_window"] == 0.5 and arts[1].manifest.config["psnr_window"] == 0.5
    assert {row["psnr_window"] for row in compared} == {"0.5"}


def test_evaluate_compares_at_a_coarser_scale_with_psnr_pool(tiny_run, tmp_path):
    arts, full, pooled, compared = _evaluate_beside_the_run(tiny_run[0], tmp_path, "--psnr-pool", 2, "pool")
    # A 2x2 cell's squared mean error is at most its mean squared error, so pooling never lowers the PSNR.
    assert all(float(p["psnr"]) >= float(f["psnr"]) - 1e-4 for p, f in zip(pooled, full))
    assert any(float(p["psnr"]) > float(f["psnr"]) + 0.1 for p, f in zip(pooled, full))
    assert arts[1].manifest.summary["psnr_pool"] == 2 and arts[0].manifest.summary["psnr_pool"] == 1
    assert {row["psnr_pool"] for row in compared} == {"2"}


def test_evaluate_without_the_test_time_flip(tiny_run, tmp_path):
    store = tiny_run[0]
    r = invoke("evaluate", "--no-flip", "--name", "noflip", "--store", store)
    assert r.exit_code == 0, r.output
    arts = [Store(store).resolve(f"eval/{n}", "eval") for n in ("synthetic@v1", "noflip")]
    flipped, plain = (_read_scores(a.path / "scores.csv") for a in arts)
    assert [(f["video"], f["frame"], f["psnr"]) for f in flipped] == [
        (q["video"], q["frame"], q["psnr"]) for q in plain
    ]
    assert any(f["score_detector"] != p["score_detector"] for f, p in zip(flipped, plain))
    assert [a.manifest.summary["flip"] for a in arts] == [True, False]
    r = invoke("compare", "eval/noflip", "--csv", tmp_path / "c.csv", "--store", store)
    assert r.exit_code == 0, r.output
    compared = _read_scores(tmp_path / "c.csv")
    assert {row["flip"] for row in compared} == {"False"}
    # The processor the evaluation ran on travels with its metrics into kept records.
    assert {row["cpu"] for row in compared} == {arts[1].manifest.summary["cpu"]} and compared[0]["cpu"]


def _read_scores(path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f))


def test_generate_and_detector_through_the_cli(tiny_run, tmp_path):
    store, _ = tiny_run
    r = invoke("generate", "--n", 20, "--store", store, "--seed", 3)
    assert r.exit_code == 0 and "20 ffp-pseudo" in r.output
    pseudo = Store(store).resolve("pseudo/synthetic", "pseudo")
    assert np.load(pseudo.path / "pseudo.npy").shape == (20, 32, 32, 1)
    assert (pseudo.path / "preview.png").exists()
    r = invoke("train-detector", "--pseudo", pseudo.ref, "--epochs", 1, "--width", 4, "--store", store)
    assert r.exit_code == 0 and "validation AUC" in r.output


def test_detector_rejects_wrong_kind(tiny_run):
    store, _ = tiny_run
    r = invoke("train-detector", "--pseudo", "gan/synthetic", "--store", store)
    assert r.exit_code == 2 and "pseudo artifact is needed" in r.output


# ----- the evaluate path with oracle models


def _oracle_store(tmp_path):
    """Test videos of different lengths whose abnormal frames are bright; normal frames are dark.

    Every test video has abnormal frames: with per-video min-max normalisation an all-normal video's scores
    are stretched to [0, 1] too, so even a perfect score would not reach AUC 1.0 there (see test_metrics).
    """
    store = Store(tmp_path)
    rng = np.random.default_rng(0)
    with store.draft("frames", "oracle") as d:
        w = CacheWriter(d.path, (16, 16), 1, "raw")
        w.add("train", VideoInfo("t1", 0, 0, 25.0, (16, 16), "x"), np.full((8, 16, 16, 1), 30, np.uint8), None)
        for name, length, abnormal in (("v1", 12, range(6, 9)), ("v2", 20, range(10, 18)), ("v3", 9, range(5, 7))):
            labels = np.zeros(length, np.uint8)
            labels[list(abnormal)] = 1
            frames = np.where(labels[:, None, None, None] > 0, 220, 30) + rng.integers(0, 5, (length, 16, 16, 1))
            w.add("test", VideoInfo(name, 0, 0, 25.0, (16, 16), "x"), frames.astype(np.uint8), labels)
        w.close()
        frames = d.publish({"dataset": "oracle"}, [], {}, "f")
    model = {"channels": 1, "size": [16, 16], "t_past": 4, "width": 4, "depth": 1, "d_width": 4}
    for kind, config in (("gan", {"model": model}), ("detector", {**model, "t_past": 4})):
        with store.draft(kind, "oracle") as d:
            (d.path / "unused").write_text("weights are replaced by oracles in these tests")
            d.publish(config, [store.input_ref("frames", frames)], {}, kind)
    return store


class ConstantFrame(torch.nn.Module):
    def __init__(self, value):
        super().__init__()
        self.value = value

    def forward(self, past):
        return torch.full_like(past[:, :1], self.value)


class BrightnessDetector(torch.nn.Module):
    def __init__(self, sign):
        super().__init__()
        self.sign = sign

    def forward(self, past, candidate, prediction=None):
        return self.sign * 10 * candidate.mean(dim=(1, 2, 3))


@pytest.mark.parametrize("sign, expected", [(1, 1.0), (-1, 0.0)])
def test_oracle_scores_give_auc_one_and_their_inverse_zero(tmp_path, monkeypatch, sign, expected):
    store = _oracle_store(tmp_path)
    # Predicting black makes bright (abnormal) frames badly predicted; predicting white, the reverse.
    g = ConstantFrame(-1.0 if sign > 0 else 1.0)
    model = GanModelConfig(channels=1, size=(16, 16), t_past=4, width=4, depth=1, d_width=4)
    monkeypatch.setattr("vgisgan.gan.load_generators", lambda *a: (model, g, g))
    monkeypatch.setattr("vgisgan.stages.train_detector.load_detector", lambda *a: BrightnessDetector(sign))
    # The oracle judges the candidate frame alone: a reversed view's candidate is the window's first frame.
    art = evaluate.run(EvaluateConfig(reverse=False), store).artifact
    m = art.manifest.summary["metrics"]
    for score in ("score_psnr", "score_detector", "score_combined"):
        for protocol in ("per-video", "none"):
            assert m[score][protocol]["micro_auc"] == pytest.approx(expected), (score, protocol)
    assert m["score_detector"]["per-video"]["n_videos_used"] == 3


def test_labels_are_joined_by_video_and_frame_not_position(tmp_path):
    store = _oracle_store(tmp_path)
    cache = FrameCache(store.resolve("frames/oracle", "frames").path)
    keys = [(v.name, f) for i, v in enumerate(cache.videos("test")) for f in range(4, v.length)]
    order = np.random.default_rng(1).permutation(len(keys))
    table = {
        "video": np.array([keys[i][0] for i in order], dtype=object),
        "frame": np.array([keys[i][1] for i in order]),
    }
    labels = join_labels(table, cache)
    expected = {("v1", f): int(6 <= f <= 8) for f in range(12)} | {("v2", f): int(10 <= f <= 17) for f in range(20)}
    expected |= {("v3", f): int(5 <= f <= 6) for f in range(9)}
    assert labels.tolist() == [expected[(v, int(f))] for v, f in zip(table["video"], table["frame"])]


def test_unlabelled_test_split_still_gets_scores_and_plots(tmp_path, tiny_videos):
    from vgisgan.data.layout_writer import write_layout

    src = write_layout("folder", tmp_path / "ds", *tiny_videos)
    (src / "labels.csv").unlink()
    store = tmp_path / "st"
    r = invoke("run", "folder", "--source", src, "--preset", "tiny", "--store", store)
    assert r.exit_code == 0, r.output
    r = invoke("evaluate", "--plots", "--store", store)
    assert r.exit_code == 0 and "AUC and EER need labels" in r.output
    art = Store(store).resolve(None, "eval")
    assert (art.path / "plots" / "index.html").read_text().count("need labels") == 1
    assert (art.path / "scores.csv").read_text().splitlines()[1].split(",")[2] == ""


def test_detector_resume_ends_with_the_same_weights(tiny_run, tmp_path):
    import shutil

    from safetensors.numpy import load_file

    from vgisgan.config import DetectorConfig
    from vgisgan.stages import train_detector

    store, _ = tiny_run
    cfg = DetectorConfig(epochs=3, width=4, batch_size=16, seed=5)
    a, b = tmp_path / "a", tmp_path / "b"
    shutil.copytree(store, a)
    shutil.copytree(store, b)
    whole = train_detector.run(cfg, Store(a), pseudo_ref="pseudo/synthetic@v1").artifact
    calls = []

    def stop_in_epoch_two(task, done, total, **fields):
        calls.append(done)
        if done > total // 3:  # the first step of the second epoch
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_detector.run(cfg, Store(b), pseudo_ref="pseudo/synthetic@v1", progress=stop_in_epoch_two)
    resumed = train_detector.run(cfg, Store(b), pseudo_ref="pseudo/synthetic@v1", resume=True).artifact
    wa = load_file(str(whole.path / "detector.safetensors"))
    wb = load_file(str(resumed.path / "detector.safetensors"))
    assert all((wa[k] == wb[k]).all() for k in wa)
    assert (whole.path / "log.csv").read_text().count("\n") == (resumed.path / "log.csv").read_text().count("\n") == 4


def test_run_config_file_overrides_the_preset(tmp_path):
    cfg = tmp_path / "run.toml"
    cfg.write_text("[train_gan]\niters = 3\n\n[generate]\nn = 20\n")
    store = tmp_path / "st"
    r = invoke("run", "synthetic", "--preset", "tiny", "--config", cfg, "--seed", 4, "--store", store)
    assert r.exit_code == 0, r.output
    gan = Store(store).resolve("gan/synthetic", "gan").manifest
    assert gan.config["train"]["iters"] == 3 and gan.config["train"]["seed"] == 4
    assert Store(store).resolve(None, "pseudo").manifest.summary["n"] == 20
    cfg.write_text("[train-gan]\niters = 3\n")
    r = invoke("run", "synthetic", "--preset", "tiny", "--config", cfg, "--store", store)
    assert r.exit_code == 2 and "unknown config section" in r.output


@pytest.mark.parametrize("method", ["skip-frame", "local-skip", "fast-forward", "patch"])
def test_methods_without_a_gan_make_pseudo_anomalies_that_differ(tiny_run, method):
    store, _ = tiny_run
    r = invoke("generate", "--method", method, "--n", 24, "--frames", "frames/synthetic", "--store", store)
    assert r.exit_code == 0, r.output
    art = Store(store).resolve(f"pseudo/synthetic-{method}", "pseudo")
    assert art.manifest.config["method"] == method and not art.manifest.inputs[1:]  # no GAN input
    # local-skip changes one patch of the frame (tests/test_methods.py), the others the whole frame or a bigger patch
    floor = 0.1 if method == "local-skip" else 1.0
    assert art.manifest.summary["pseudo_vs_real"]["mean_abs_diff_to_real"] > floor
    r = invoke("train-detector", "--pseudo", art.ref, "--epochs", 1, "--width", 4, "--store", store)
    assert r.exit_code == 0, r.output


def test_tensorboard_flag_without_tensorboard_is_a_clear_error(store_copy):
    try:
        import tensorboard  # noqa: F401

        pytest.skip("tensorboard is installed")
    except ImportError:
        pass
    r = invoke("train-gan", "--iters", 1, "--width", 4, "--d-width", 4, "--tensorboard", "--store", store_copy)
    assert r.exit_code == 2 and "pip install tensorboard" in r.output


def test_artifacts_gc_command(store_copy):
    leftover = store_copy / ".tmp" / "gan-x-999999999-0badc0de"
    leftover.mkdir(parents=True)
    r = invoke("artifacts", "gc", "--store", store_copy)
    assert r.exit_code == 0 and "removed 1" in r.output and not leftover.exists()


@pytest.mark.parametrize(
    "method, extra, weights",
    [
        ("convae-negloss", ["--norm", "pm1"], ["convae_normal", "convae_abnormal"]),
        ("convae-negloss", ["--norm", "01", "--t-length", "3"], ["convae_normal", "convae_abnormal"]),
        ("convae-negloss", ["--nega-loss", "mse-kl"], ["convae_normal", "convae_abnormal"]),
        ("dcgan", ["--recon-steps", "2"], ["dcgan_generator"]),
        ("ognet", ["--old-frac", "0.5"], ["ognet_g_old", "ognet_g_new", "ognet_d"]),
    ],
)
def test_trained_methods_publish_their_generator_and_differ_from_real(tiny_run, method, extra, weights):
    from safetensors.numpy import load_file

    store, _ = tiny_run
    args = ["generate", "--method", method, "--n", 16, "--iters", 6, "--width", 4, "--train-batch", 8, *extra]
    r = invoke(*args, "--frames", "frames/synthetic", "--force", "--store", store)
    assert r.exit_code == 0, r.output
    art = Store(store).resolve(f"pseudo/synthetic-{method}", "pseudo")
    for w in weights:
        assert load_file(str(art.path / f"{w}.safetensors"))
    assert (art.path / "train_log.csv").read_text().startswith("phase,")
    assert art.manifest.config["train_batch"] == 8 and art.manifest.config["iters"] == 6
    assert art.manifest.summary["pseudo_vs_real"]["mean_abs_diff_to_real"] > 1.0
    expected_t = 2 if "3" in extra else (1 if method == "convae-negloss" else 4)
    assert art.manifest.summary["t_past"] == expected_t
    r = invoke("train-detector", "--pseudo", art.ref, "--epochs", 1, "--width", 4, "--store", store)
    assert r.exit_code == 0, r.output
    det = Store(store).resolve(f"detector/synthetic-{method}", "detector").manifest.config
    assert det["arch"] == "ognet" if method == "ognet" else "arch" not in det


def test_dcgan_rejects_frames_it_cannot_build(tmp_path):
    assert prepare_tiny(tmp_path, size=48, train=2, test=1, length=10).exit_code == 0
    r = invoke("generate", "--method", "dcgan", "--n", 4, "--store", tmp_path)
    assert r.exit_code == 2 and "power of two" in r.output


@pytest.mark.parametrize("method", ["skip-frame", "patch", "convae-negloss", "dcgan", "ognet"])
def test_run_end_to_end_with_every_method(tiny_run, method):
    store, _ = tiny_run
    r = invoke("run", "synthetic", "--preset", "tiny", "--method", method, "--store", store)
    assert r.exit_code == 0, r.output
    assert f"eval/synthetic-{method}@v" in r.output and "combined" in r.output


def test_run_name_puts_a_variant_beside_the_runs_own(tiny_run, tmp_path):
    """--name names the detector and the evaluation: the GAN's set alone (no mix) would otherwise be a second
    version of the run's own `synthetic`, and grouping by name (benchmarks/seeds.py) would mix the two."""
    store = tmp_path / "store"
    shutil.copytree(tiny_run[0], store)
    own = [a.ref for a in Store(store).list("eval") if a.manifest.name == "synthetic"]
    r = invoke("run", "synthetic", "--preset", "tiny", "--mix", "none", "--name", "synthetic-alone", "--store", store)
    assert r.exit_code == 0, r.output
    assert "train_gan       reused" in r.output and "generate        reused" in r.output
    ev = Store(store).resolve("eval/synthetic-alone", "eval")
    det = Store(store).resolve("detector/synthetic-alone", "detector")
    assert det.ref in [i.ref for i in ev.manifest.inputs]
    assert [i.ref for i in det.manifest.inputs if i.ref.startswith("pseudo/")] == ["pseudo/synthetic@v1"]
    assert [a.ref for a in Store(store).list("eval") if a.manifest.name == "synthetic"] == own


def test_run_resume_continues_an_interrupted_gan(tmp_path, monkeypatch):
    from vgisgan.stages import train_gan

    store = tmp_path / "st"
    real_report = train_gan._report

    def interrupt_at_4(done, *args, **kwargs):
        real_report(done, *args, **kwargs)
        if done == 4:
            raise KeyboardInterrupt

    monkeypatch.setattr(train_gan, "_report", interrupt_at_4)
    r = invoke("run", "synthetic", "--preset", "tiny", "--store", store)
    assert r.exit_code == 130 and "continue with --resume" in r.output
    monkeypatch.setattr(train_gan, "_report", real_report)
    r = invoke("run", "synthetic", "--preset", "tiny", "--resume", "--store", store)
    assert r.exit_code == 0, r.output
    assert Store(store).resolve("gan/synthetic", "gan").manifest.summary["resumed_from"] == 4


def test_compare_tables_every_score_with_its_method_mix(tiny_run, tmp_path):
    store, _ = tiny_run
    md, table = tmp_path / "c.md", tmp_path / "c.csv"
    r = invoke("compare", "eval/synthetic@v1", "--markdown", md, "--csv", table, "--store", store)
    assert r.exit_code == 0, r.output
    with open(table) as f:
        rows = list(csv.DictReader(f))
    assert [row["score"] for row in rows] == ["psnr", "detector", "combined"]
    assert {row["method"] for row in rows} == {"ffp-pseudo+skip-frame+patch+local-skip"}  # run's default mix
    metrics = Store(store).resolve("eval/synthetic@v1", "eval").manifest.summary["metrics"]
    assert float(rows[0]["micro_auc_per_video"]) == metrics["score_psnr"]["per-video"]["micro_auc"]
    assert md.read_text().splitlines()[0].startswith("| eval | version | method | seed | score |")
    assert {row["version"] for row in rows} == {vgisgan.__version__}
    assert f"{100 * metrics['score_combined']['none']['micro_auc']:.2f}" in md.read_text()


def test_fusion_benchmark_rebuilds_the_evals_aucs_from_its_scores_csv(tiny_run):
    store, _ = tiny_run
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "fusion.py"
    summary = Store(store).resolve("eval/synthetic@v1", "eval").manifest.summary
    alpha, fusion, metrics = summary["alpha"], summary["fusion"], summary["metrics"]
    cmd = [sys.executable, str(script), "--store", str(store), "--eval", "synthetic@v1", "--gamma", "0", "1"]
    out = subprocess.run([*cmd, "--alpha", str(alpha), "--fusion", fusion], capture_output=True, text=True, check=True)
    row = json.loads(out.stdout)
    combined = load_benchmark("fusion").combined_key(fusion, alpha)
    for key, score in (("psnr", "score_psnr"), ("detector", "score_detector"), (combined, "score_combined")):
        # scores.csv holds six significant digits, and the script rounds to two decimals
        assert row[key] == pytest.approx(100 * metrics[score]["per-video"]["micro_auc"], abs=0.02), key
    assert row["gamma 0 margin"] == pytest.approx(row["gamma 0"] - row["psnr"], abs=0.011)

    out = subprocess.run(cmd + ["--per-video"], capture_output=True, text=True, check=True).stdout
    videos = [json.loads(line) for line in out.splitlines()[1:]]
    for key, score in (("psnr", "score_psnr"), ("detector", "score_detector"), ("combined", "score_combined")):
        macro = metrics[score]["per-video"]
        assert len(videos) == macro["n_videos_used"]
        assert np.mean([v[key] for v in videos]) == pytest.approx(100 * macro["macro_auc"], abs=0.02), key


def test_kept_scores_benchmark_keeps_an_evals_scores_and_scores_them_again_through_its_cli(tiny_run, tmp_path):
    store, _ = tiny_run
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "kept_scores.py"
    summary = Store(store).resolve("eval/synthetic@v1", "eval").manifest.summary
    alpha, fusion, metrics = summary["alpha"], summary["fusion"], summary["metrics"]
    kept = tmp_path / "scores" / "seed0.csv"
    subprocess.run(
        [sys.executable, str(script), "keep", "--store", str(store), "--eval", "eval/synthetic@v1", "--out", str(kept)],
        check=True,
    )
    assert next(csv.DictReader(kept.read_text().splitlines()))["label"] == ""
    cmd = [sys.executable, str(script), "score", str(kept), "--store", str(store), "--alpha", str(alpha)]
    row = json.loads(subprocess.run([*cmd, "--fusion", fusion], capture_output=True, text=True, check=True).stdout)
    combined = load_benchmark("fusion").combined_key(fusion, alpha)
    for key, score in (("psnr", "score_psnr"), ("detector", "score_detector"), (combined, "score_combined")):
        assert row[key] == pytest.approx(100 * metrics[score]["per-video"]["micro_auc"], abs=0.02), key


def test_evaluate_fusion_linear_sums_the_same_parts_and_compare_shows_the_fusion(tiny_run, tmp_path):
    store = tiny_run[0]
    det = Store(store).resolve("detector/synthetic@v1", "detector")
    r = invoke("evaluate", "--fusion", "linear", "--detector", det.ref, "--name", "linear", "--store", store)
    assert r.exit_code == 0, r.output
    arts = [Store(store).resolve(f"eval/{n}", "eval") for n in ("synthetic@v1", "linear")]
    assert [a.manifest.summary["fusion"] for a in arts] == ["softplus", "linear"]
    softplus_rows, linear_rows = (_read_scores(a.path / "scores.csv") for a in arts)
    parts = [(f["video"], f["frame"], f["score_psnr"], f["score_detector"]) for f in softplus_rows]
    assert parts == [(f["video"], f["frame"], f["score_psnr"], f["score_detector"]) for f in linear_rows]
    columns = {k: np.array([float(f[k]) for f in linear_rows]) for k in ("score_psnr", "score_detector")}
    alpha = arts[1].manifest.summary["alpha"]
    expected = combine(columns["score_psnr"], columns["score_detector"], alpha, fusion="linear")
    assert np.allclose([float(f["score_combined"]) for f in linear_rows], expected, rtol=1e-4, atol=1e-4)
    assert any(f["score_combined"] != q["score_combined"] for f, q in zip(softplus_rows, linear_rows))
    r = invoke("compare", "--csv", tmp_path / "c.csv", "--store", store, *(a.ref for a in arts))
    assert r.exit_code == 0, r.output
    rows = _read_scores(tmp_path / "c.csv")
    assert {(row["eval"], row["fusion"], row["alpha"]) for row in rows} == {
        (a.ref, a.manifest.summary["fusion"], str(alpha)) for a in arts
    }


@pytest.mark.parametrize("dataset", ["ped2", "synthetic"])
@pytest.mark.parametrize("preset", ["tiny", "cpu", "paper"])
def test_every_preset_gives_valid_settings_for_every_stage(preset, dataset):
    from vgisgan.config import DetectorConfig, GenerateConfig, PrepareConfig, TrainGanConfig
    from vgisgan.stages.pipeline import stage_settings

    s = stage_settings(preset, {}, dataset)
    prep = PrepareConfig.model_validate({**s["prepare"], "dataset": dataset})
    gan = TrainGanConfig.model_validate(s["train_gan"])
    GanModelConfig(size=prep.size, width=gan.width, depth=gan.depth)  # the frame size fits the U-Net
    for method in (
        "ffp-pseudo",
        "skip-frame",
        "local-skip",
        "fast-forward",
        "patch",
        "convae-negloss",
        "dcgan",
        "ognet",
    ):
        GenerateConfig.model_validate({**s["generate"], "method": method})
    DetectorConfig.model_validate(s["train_detector"])
    EvaluateConfig.model_validate(s["evaluate"])


def test_run_from_a_prepared_cache_skips_prepare(store_copy):
    """--frames: the pipeline starts from a cache made earlier, here or on another machine."""
    frames = Store(store_copy).resolve(None, "frames")
    r = invoke("run", "synthetic", "--preset", "tiny", "--frames", frames.ref, "--mix", "none", "--store", store_copy)
    assert r.exit_code == 0, r.output
    assert f"prepare         reused    {frames.ref}" in r.output
    assert [a.ref for a in Store(store_copy).list("frames")] == [frames.ref]
    gan = Store(store_copy).resolve(None, "gan").manifest
    assert [i.ref for i in gan.inputs] == [frames.ref]
    r = invoke("run", "ped2", "--frames", frames.ref, "--source", store_copy, "--store", store_copy)
    assert r.exit_code == 2 and "not both" in r.output


def test_threads_are_set_once_and_recorded_by_every_torch_stage(store_copy, keep_threads):
    threads = 2 if keep_threads == 1 else 1  # differs from the count the suite runs with
    frames = Store(store_copy).resolve(None, "frames")
    r = invoke(
        "run", "synthetic", "--preset", "tiny", "--frames", frames.ref, "--threads", threads, "--store", store_copy
    )
    assert r.exit_code == 0, r.output
    assert torch.get_num_threads() == threads
    for kind in ("gan", "pseudo", "detector", "eval"):
        summary = Store(store_copy).resolve(None, kind).manifest.summary
        assert (summary["device"], summary["threads"]) == ("cpu", threads), kind
        assert summary["cpu"] == cpu_name() and summary["cpu"], kind
        assert summary["cpu_kernels"] == torch.backends.cpu.get_cpu_capability(), kind


def test_cpu_name_reads_the_model_name_and_falls_back_without_cpuinfo(tmp_path):
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU @ 2.00GHz\nflags\t: avx\n")
    assert cpu_name(info) == "Test CPU @ 2.00GHz"
    assert cpu_name(tmp_path / "absent")  # the platform module's answer, never empty


def test_cpu_name_tells_generic_names_apart_by_the_first_processors_family_and_model(tmp_path):
    block = "processor\t: {n}\ncpu family\t: 6\nmodel\t\t: {m}\nmodel name\t: Intel(R) Xeon(R) Processor\n"
    info = tmp_path / "cpuinfo"
    info.write_text(block.format(n=0, m=207) + "\n" + block.format(n=1, m=143))
    assert cpu_name(info) == "Intel(R) Xeon(R) Processor (family 6, model 207)"


def test_threads_below_one_is_a_clear_error(frames_store, keep_threads):
    r = invoke("train-gan", "--threads", 0, "--iters", 1, "--store", frames_store)
    assert r.exit_code == 2 and "--threads 0" in r.output and "at least 1" in r.output


def test_the_same_seed_on_the_same_threads_reproduces_the_scores_exactly(frames_store, tmp_path, keep_threads):
    """What a manifest's seed and `runtime` promise: rerunning them gives the same scores, to the last digit."""
    scores = []
    for copy in ("a", "b"):
        store = tmp_path / copy
        shutil.copytree(frames_store, store)
        r = invoke(
            "run", "synthetic", "--preset", "tiny", "--frames", "frames/synthetic", "--threads", 1, "--store", store
        )
        assert r.exit_code == 0, r.output
        scores.append((Store(store).resolve(None, "eval").path / "scores.csv").read_text())
    assert scores[0] == scores[1]


def test_psnr_window_benchmark_runs_on_a_trained_gan(tiny_run):
    store, _ = tiny_run
    script = Path(__file__).resolve().parents[1] / "benchmarks" / "psnr_window.py"
    cmd = [sys.executable, str(script), "--store", str(store), "--n", "8", "--windows", "1", "0.5"]
    out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    assert out["gan"] == "gan/synthetic@v1" and set(out["auc"]) == {"1.0", "0.5"}
    assert all(0 <= a <= 100 for w in out["auc"].values() for a in w.values())


def test_the_detector_carries_cell_levels_and_evaluate_can_leave_them_out_or_add_the_reversed_views(tiny_run, tmp_path):
    store = tiny_run[0]
    det = Store(store).resolve("detector/synthetic@v1", "detector")  # the run's (other tests add versions)
    assert (det.path / "cell_levels.safetensors").exists() and det.manifest.summary["cell_levels"] is True
    assert "cell_levels.safetensors" in {f.path for f in det.manifest.files}
    for name, flags in (("unlevelled", ["--no-cell-levels"]), ("reversed", ["--reverse"])):
        r = invoke("evaluate", *flags, "--detector", det.ref, "--name", name, "--store", store)
        assert r.exit_code == 0, r.output
    arts = [Store(store).resolve(f"eval/{n}", "eval") for n in ("synthetic@v1", "unlevelled", "reversed")]
    default, *others = (_read_scores(a.path / "scores.csv") for a in arts)
    key = [(f["video"], f["frame"], f["psnr"]) for f in default]
    for other in others:
        assert key == [(q["video"], q["frame"], q["psnr"]) for q in other]
        assert any(f["score_detector"] != q["score_detector"] for f, q in zip(default, other))
    assert [a.manifest.summary["cell_levels"] for a in arts] == [True, False, True]
    assert [a.manifest.summary["reverse"] for a in arts] == [False, False, True]
    r = invoke("compare", "--csv", tmp_path / "c.csv", "--store", store)
    assert r.exit_code == 0, r.output
    rows = {row["eval"]: row for row in _read_scores(tmp_path / "c.csv")}
    assert [(rows[a.ref]["cell_levels"], rows[a.ref]["reverse"]) for a in arts] == [
        ("True", "False"),
        ("False", "False"),
        ("True", "True"),
    ]
