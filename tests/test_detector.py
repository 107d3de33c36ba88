"""The detector's inputs (several pseudo sets at once, the normal prediction's error) and its probe."""

import numpy as np
import pytest
import torch
from conftest import invoke

from vgisgan.config import DetectorConfig
from vgisgan.data.cache import CacheWriter, FrameCache, VideoInfo
from vgisgan.data.clips import to_tensor
from vgisgan.data.examples import Examples
from vgisgan.errors import VgisganError
from vgisgan.probe import probe_rows
from vgisgan.stages.train_detector import Trainer
from vgisgan.store import Store


@pytest.fixture(scope="module")
def two_sets(tmp_path_factory):
    """A tiny run without the mix, and a skip-frame set made from the same frames."""
    store = tmp_path_factory.mktemp("mix")
    r = invoke("run", "synthetic", "--preset", "tiny", "--mix", "none", "--store", store)
    assert r.exit_code == 0, r.output
    r = invoke("generate", "--method", "skip-frame", "--n", 24, "--frames", "frames/synthetic", "--store", store)
    assert r.exit_code == 0, r.output
    return store


def test_run_without_the_mix_makes_one_pseudo_set(two_sets):
    names = sorted(a.ref for a in Store(two_sets).list("pseudo"))
    assert names == ["pseudo/synthetic-skip-frame@v1", "pseudo/synthetic@v1"]  # the second made by the fixture
    det = Store(two_sets).resolve("detector/synthetic", "detector").manifest
    assert [i.ref for i in det.inputs if i.role == "pseudo"] == ["pseudo/synthetic@v1"]


def test_detector_learns_several_pseudo_sets_together(two_sets):
    store = Store(two_sets)
    ffp, skip = store.resolve("pseudo/synthetic", "pseudo"), store.resolve("pseudo/synthetic-skip-frame", "pseudo")
    args = ["--pseudo", ffp.ref, "--add-pseudo", skip.ref, "--epochs", 1, "--width", 4, "--name", "both"]
    r = invoke("train-detector", *args, "--store", two_sets)
    assert r.exit_code == 0, r.output
    det = store.resolve("detector/both", "detector").manifest
    assert [i.ref for i in det.inputs if i.role == "pseudo"] == [ffp.ref, skip.ref]
    # ffp-pseudo gives three examples per pseudo-anomaly (it, the real frame, the normal prediction); skip-frame two.
    expected = 3 * ffp.manifest.summary["n"] + 2 * skip.manifest.summary["n"]
    assert det.summary["train_examples"] + det.summary["val_examples"] == expected


def test_pseudo_sets_must_follow_the_same_number_of_past_frames(two_sets):
    r = invoke(
        "generate", "--method", "patch", "--n", 8, "--t-past", 2, "--frames", "frames/synthetic", "--store", two_sets
    )
    assert r.exit_code == 0, r.output
    r = invoke(
        "train-detector",
        "--pseudo",
        "pseudo/synthetic",
        "--add-pseudo",
        "pseudo/synthetic-patch",
        "--epochs",
        1,
        "--store",
        two_sets,
    )
    assert r.exit_code == 2 and "follows 2 past frames" in r.output and "--t-past 4" in r.output


def counting_cache(store: Store) -> FrameCache:
    """Two training videos of 30 4x4 frames whose every pixel is the frame's index."""
    with store.draft("frames", "counting") as d:
        w = CacheWriter(d.path, (4, 4), 1, "raw")
        for name in ("a", "b"):
            frames = np.arange(30, dtype=np.uint8)[:, None, None, None] * np.ones((1, 4, 4, 1), np.uint8)
            w.add("train", VideoInfo(name, 0, 0, 25.0, (4, 4), "x"), frames, None)
        w.close()
        return FrameCache(d.publish({}, [], {}, "f").path)


def test_probe_candidates_are_the_frame_skip_steps_later(tmp_path):
    cache = counting_cache(Store(tmp_path))
    rows, fast = probe_rows(cache, np.array([1]), t_past=4, skip=3, n=50, seed=0)
    assert (rows[:, 0] == 1).all()  # only the held-out video
    # The real next frame is frame `row`; the fast candidate is the frame skip - 1 = 2 steps after it.
    assert (fast[:, 0, 0, 0] == rows[:, 1] + 2).all()


def kept_epoch(select_by: str, val_aucs, probe_aucs, val_accs=None) -> int:
    trainer = Trainer(DetectorConfig(select_by=select_by), torch.nn.Linear(1, 1), 1, torch.device("cpu"))
    for val, probe, acc in zip(val_aucs, probe_aucs, val_accs or [1.0] * len(val_aucs)):
        trainer.epoch += 1
        trainer.keep_if_best({"val_auc": val, "val_acc": acc, "probe_auc": probe})
    return trainer.best["epoch"]


@pytest.mark.parametrize("select_by, epoch", [("probe", 2), ("pseudo", 1)])
def test_the_kept_epoch_is_the_best_by_the_chosen_auc(select_by, epoch):
    assert kept_epoch(select_by, (0.9, 0.7, 0.8), (0.6, 0.8, 0.7)) == epoch


def test_a_tie_goes_to_the_other_auc_then_to_the_later_epoch():
    probe = (1.0, 1.0, 1.0, 1.0, 0.9)  # saturated from epoch 1, as on Ped2
    assert kept_epoch("probe", (0.99, 0.98, 0.995, 0.994, 1.0), probe) == 3
    assert kept_epoch("probe", (0.99, 0.98, 0.995, 0.995, 1.0), probe) == 4
    assert kept_epoch("probe", (float("nan"),) * 5, probe) == 4


def test_an_epoch_below_min_val_acc_is_kept_only_if_none_reaches_it():
    # Ped2 0.9.0 seed 0, member 1: epoch 3 tied epoch 2 at probe 1.0 and won on val_auc, at val_acc 0.515.
    val, probe = (0.992636, 0.998371, 0.999997, 0.99901), (0.998199, 1.0, 1.0, 0.999878)
    assert kept_epoch("probe", val, probe) == 3
    assert kept_epoch("probe", val, probe, [0.970055, 0.985816, 0.515366, 0.98818]) == 2
    assert kept_epoch("probe", val, probe, [0.6, 0.5, 0.55, 0.7]) == 3  # none sound: the AUCs decide
    assert kept_epoch("probe", val, probe, [0.6, 0.5, 0.55, 0.8]) == 4  # the only sound one


def test_members_are_seeded_detectors_whose_logits_are_averaged(two_sets):
    """--members 2: member 0 is the single detector of the same seed, and the ensemble scores the mean logit."""
    from safetensors.torch import load_file

    from vgisgan.stages.train_detector import load_detector

    store = Store(two_sets)
    common = ["--pseudo", "pseudo/synthetic", "--epochs", 2, "--width", 4, "--seed", 5, "--store", two_sets]
    for n, name in ((1, "single"), (2, "pair")):
        r = invoke("train-detector", *common, "--members", n, "--name", name)
        assert r.exit_code == 0, r.output
    assert "kept epochs" in r.output and "means over 2 members" in r.output
    single, pair = store.resolve("detector/single", "detector"), store.resolve("detector/pair", "detector")
    w1, w2 = load_file(str(single.path / "detector.safetensors")), load_file(str(pair.path / "detector.safetensors"))
    assert set(w2) == {f"members.{i}.{k}" for i in (0, 1) for k in w1}
    assert all(torch.equal(w1[k], w2[f"members.0.{k}"]) for k in w1)  # member 0 = the single detector, seed 5
    assert not all(torch.equal(w1[k], w2[f"members.1.{k}"]) for k in w1 if k.endswith("weight"))  # seed 6
    assert len(pair.manifest.summary["best_epochs"]) == 2
    log = (pair.path / "log.csv").read_text().splitlines()
    assert log[0].startswith("member,epoch") and len(log) == 1 + 2 * 2  # two epochs of two members

    model = load_detector(pair.path, pair.manifest.config, torch.device("cpu"))
    past, cand = torch.randn(3, 4, 32, 32), torch.randn(3, 1, 32, 32)
    with torch.no_grad():
        expected = (model.members[0](past, cand) + model.members[1](past, cand)) / 2
        assert torch.allclose(model(past, cand), expected)
    r = invoke("evaluate", "--gan", "gan/synthetic", "--detector", pair.ref, "--store", two_sets)
    assert r.exit_code == 0, r.output
    assert "combined" in r.output


class RepeatLastFrame(torch.nn.Module):
    """A stand-in normal generator: predicts that the last past frame stays as it is."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def forward(self, past: torch.Tensor) -> torch.Tensor:
        self.calls += len(past)
        return past[:, -1:]


def test_each_example_carries_the_prediction_for_its_own_past(tmp_path):
    cache = counting_cache(Store(tmp_path))
    rows = np.array([[0, 5], [1, 9], [0, 5]])
    ex = Examples(cache, rows, pseudo=np.zeros((3, 4, 4, 1), np.uint8), normal=None)  # 6 examples, 2 positions
    g = RepeatLastFrame()
    ex.add_predictions(g, t_past=4, batch=2, device=torch.device("cpu"))
    assert g.calls == 2  # once per distinct position, not per example
    (past, cand, prediction), labels = ex.batch(np.arange(6), t_past=4)
    assert labels.tolist() == [1, 1, 1, 0, 0, 0]
    # The prediction for row (v, f) is frame f - 1 here; frames hold their index, in [-1, 1] as index / 127.5 - 1.
    expected = torch.tensor([4.0, 8.0, 4.0] * 2) / 127.5 - 1
    assert torch.allclose(prediction[:, 0, 0, 0], expected)
    assert torch.equal(prediction, past[:, -1:])


def test_a_fast_past_is_a_pseudo_anomaly_and_the_same_frame_after_a_normal_past_is_not(tmp_path):
    cache = counting_cache(Store(tmp_path))
    rows = np.array([[0, 9], [1, 20]])
    candidates = np.stack([np.full((4, 4, 1), f, np.uint8) for _, f in rows])  # the real frames at the rows
    ex = Examples(cache, rows, pseudo=candidates, normal=None, strides=np.array([2, 2]))
    g = RepeatLastFrame()
    ex.add_predictions(g, t_past=4, batch=8, device=torch.device("cpu"))
    assert g.calls == 4  # (row, stride) pairs: each row's fast past and its normal one
    (past, cand, prediction), labels = ex.batch(np.arange(4), t_past=4)
    assert labels.tolist() == [1, 1, 0, 0]
    assert torch.equal(cand[:2], cand[2:])  # the same real frames; only their pasts differ
    frame_index = ((past[:, :, 0, 0] + 1) * 127.5).round()  # frames hold their index
    assert frame_index.tolist() == [[1, 3, 5, 7], [12, 14, 16, 18], [5, 6, 7, 8], [16, 17, 18, 19]]
    assert torch.equal(prediction, past[:, -1:])  # each prediction follows its own past
    sub = ex.subset(np.array([False, True, True, False]))
    assert sub.strides.tolist() == [2, 1] and sub.rows.tolist() == [[1, 20], [0, 9]]


def test_a_detector_of_errors_reads_its_gans_predictions(two_sets):
    from vgisgan.stages.train_detector import load_detector

    store = Store(two_sets)
    common = ["--epochs", 1, "--width", 4, "--inputs", "frames+error", "--store", two_sets]
    r = invoke("train-detector", "--pseudo", "pseudo/synthetic-skip-frame", *common)
    assert r.exit_code == 2 and "was made with a GAN: pass --gan" in r.output
    r = invoke(
        "train-detector", "--pseudo", "pseudo/synthetic-skip-frame", "--gan", "gan/synthetic", "--name", "err", *common
    )
    assert r.exit_code == 0 and "(reads the prediction errors of gan/synthetic@v1, pooled head)" in r.output, r.output
    det = store.resolve("detector/err", "detector")
    assert det.manifest.config["inputs"] == "frames+error"
    assert [i.ref for i in det.manifest.inputs if i.role == "gan"] == ["gan/synthetic@v1"]

    model = load_detector(det.path, det.manifest.config, torch.device("cpu"))
    past, cand = torch.randn(2, 4, 32, 32), torch.randn(2, 1, 32, 32)
    with pytest.raises(ValueError, match="prediction"):
        model(past, cand)
    with torch.no_grad():
        assert not torch.equal(model(past, cand, cand), model(past, cand, -cand))  # the error is read

    r = invoke("evaluate", "--detector", det.ref, "--store", two_sets)  # picks the detector's own GAN
    assert r.exit_code == 0, r.output
    evaluated = max(store.list("eval"), key=lambda a: a.manifest.created)
    assert "gan/synthetic@v1" in [i.ref for i in evaluated.manifest.inputs]
    r = invoke("train-gan", "--iters", 1, "--width", 4, "--d-width", 4, "--name", "other", "--store", two_sets)
    assert r.exit_code == 0, r.output
    r = invoke("evaluate", "--detector", det.ref, "--gan", "gan/other", "--store", two_sets)
    assert r.exit_code == 2 and "reads the predictions of gan/synthetic@v1, not of gan/other@v1" in r.output
    # A detector of frames alone is scored with the GAN its pseudo-anomalies came from, not the newest GAN.
    r = invoke("evaluate", "--detector", "detector/synthetic", "--store", two_sets)
    assert r.exit_code == 0 and "gan: gan/synthetic@v1" in r.output, r.output


class TwoNumbers:
    """Stand-in examples for the Trainer: 10 examples of one random input each, half of them labelled 1."""

    labels = np.array([0, 1] * 5, np.float32)

    def batch(self, idx, t_past):
        return (torch.randn(len(idx), 1),), torch.from_numpy(self.labels[idx])


def test_the_detectors_rate_falls_to_zero_over_the_last_share_of_steps():
    model = torch.nn.Sequential(torch.nn.Linear(1, 1), torch.nn.Flatten(0))  # (B, 1) -> logits (B,)
    cfg = DetectorConfig(epochs=2, batch_size=2, lr=1e-2, lr_decay=0.5)
    trainer = Trainer(cfg, model, 1, torch.device("cpu"))
    rates, step = [], trainer.opt.step
    trainer.opt.step = lambda: (rates.append(trainer.opt.param_groups[0]["lr"]), step())
    for _ in range(cfg.epochs):
        trainer.train_epoch(TwoNumbers(), lambda *a: None)
    # 2 epochs of 5 steps: the first 5 at the full rate, then 5/5, 4/5, ... 1/5 of it.
    assert rates == pytest.approx([1e-2] * 5 + [1e-2 * k / 5 for k in (5, 4, 3, 2, 1)])


def test_with_member_splits_each_member_holds_out_the_videos_of_its_seed(two_sets):
    from safetensors.torch import load_file

    store = Store(two_sets)
    common = ["--pseudo", "pseudo/synthetic", "--epochs", 1, "--width", 4, "--members", 2, "--seed", 5]
    for flag in ("--shared-split", "--member-splits"):
        r = invoke("train-detector", *common, flag, "--name", flag.strip("-"), "--store", two_sets)
        assert r.exit_code == 0, r.output
    # Seed 5 holds out the second of the three training videos, seed 6 the first.
    assert "(validation videos: 02)" in r.output and "(validation videos: 01)" in r.output
    shared, own = (
        load_file(str(store.resolve(f"detector/{n}", "detector").path / "detector.safetensors"))
        for n in ("shared-split", "member-splits")
    )
    member = {i: [k for k in own if k.startswith(f"members.{i}.") and k.endswith("weight")] for i in (0, 1)}
    assert all(torch.equal(shared[k], own[k]) for k in member[0])  # member 0: the same seed and split
    assert not all(torch.equal(shared[k], own[k]) for k in member[1])  # member 1: seed 6's own split


def test_lr_decay_through_the_cli_changes_the_weights_and_is_bounded(two_sets):
    from safetensors.torch import load_file

    store = Store(two_sets)
    common = ["--pseudo", "pseudo/synthetic", "--epochs", 2, "--width", 4, "--seed", 3, "--store", two_sets]
    r = invoke("train-detector", *common, "--lr-decay", 1.5)
    assert r.exit_code == 2 and "lr_decay" in r.output, r.output
    weights = {}
    for decay in (0, 1):
        r = invoke("train-detector", *common, "--lr-decay", decay, "--name", f"decay{decay}")
        assert r.exit_code == 0, r.output
        art = store.resolve(f"detector/decay{decay}", "detector")
        assert art.manifest.config["lr_decay"] == decay
        weights[decay] = load_file(str(art.path / "detector.safetensors"))
    assert not all(torch.equal(weights[0][k], weights[1][k]) for k in weights[0] if k.endswith("weight"))


def test_min_val_acc_through_the_cli_moves_the_kept_epoch_off_an_unsound_one(two_sets, keep_threads):
    """On one thread, so that the tiny run's epochs are the same on every machine (the count changes them)."""
    import csv

    store = Store(two_sets)
    sets = ["--pseudo", "pseudo/synthetic", "--add-pseudo", "pseudo/synthetic-skip-frame"]
    common = [*sets, "--epochs", 4, "--width", 4, "--lr", 1e-2, "--seed", 2, "--threads", 1, "--store", two_sets]
    assert invoke("train-detector", *common, "--min-val-acc", 1.5).exit_code == 2

    def kept(bound: float, name: str) -> tuple[int, dict[int, float]]:
        r = invoke("train-detector", *common, "--min-val-acc", bound, "--name", name)
        assert r.exit_code == 0, r.output
        art = store.resolve(f"detector/{name}", "detector")
        assert art.manifest.config["min_val_acc"] == bound
        accs = {int(row["epoch"]): float(row["val_acc"]) for row in csv.DictReader(open(art.path / "log.csv"))}
        return art.manifest.summary["best_epochs"][0], accs

    epoch, accs = kept(0.0, "any")  # every epoch sound: the AUCs alone decide
    better = [e for e, a in accs.items() if a > accs[epoch]]
    assert better, f"no epoch has a higher val_acc than the kept one: {accs}"
    moved, _ = kept((accs[epoch] + min(accs[e] for e in better)) / 2, "guarded")  # the log rounds to 6 digits
    assert moved in better


def test_the_regions_head_scores_a_frame_by_its_largest_region():
    """Each cell's logit sees only its own corner of the frame, and the frame's logit is the largest cell's."""
    from vgisgan.models.detector import build_member

    torch.manual_seed(0)
    model = build_member({"channels": 1, "t_past": 4, "width": 4, "head": "regions"}).eval()
    past, cand = torch.zeros(2, 4, 128, 128), torch.zeros(2, 1, 128, 128)
    moved = cand.clone()
    moved[:, :, :16, :16] = 1.0  # a change in the top-left 16x16 pixels
    with torch.no_grad():
        cells = model.region_logits(model.feature_maps(past, cand, None))  # (2, 8, 8)
        cells_moved = model.region_logits(model.feature_maps(past, moved, None))
        assert cells.shape == (2, 8, 8)
        assert torch.equal(model(past, moved), cells_moved.amax(dim=(1, 2)))
    changed = (cells_moved - cells).abs() > 1e-6
    assert changed[:, :2, :2].all()  # the cells whose ~31-pixel view covers the change
    assert not changed[:, 2:, :].any() and not changed[:, :, 2:].any()  # no other cell
    pooled = build_member({"channels": 1, "t_past": 4, "width": 4}).eval()
    with pytest.raises(ValueError, match="only a detector with the regions head"):
        pooled.region_logits(pooled.feature_maps(past, cand, None))
    with pytest.raises(ValueError, match="unknown detector head"):
        build_member({"channels": 1, "t_past": 4, "width": 4, "head": "grid"})


def test_a_regions_detector_is_saved_rebuilt_and_evaluated(two_sets):
    from vgisgan.stages.train_detector import load_detector

    store = Store(two_sets)
    common = ["--pseudo", "pseudo/synthetic", "--epochs", 1, "--width", 4, "--seed", 3, "--store", two_sets]
    for head in ("pooled", "regions"):
        r = invoke("train-detector", *common, "--head", head, "--members", 2, "--name", head)
        assert r.exit_code == 0 and f"{head} head" in r.output, r.output
    det = store.resolve("detector/regions", "detector")
    assert det.manifest.config["head"] == "regions"
    model = load_detector(det.path, det.manifest.config, torch.device("cpu"))
    assert all(m.head == "regions" for m in model.members)
    for head in ("pooled", "regions"):
        r = invoke(
            "evaluate", "--gan", "gan/synthetic", "--detector", f"detector/{head}", "--name", head, "--store", two_sets
        )
        assert r.exit_code == 0, r.output
    scores = {
        head: (store.resolve(f"eval/{head}", "eval").path / "scores.csv").read_text() for head in ("pooled", "regions")
    }
    assert scores["pooled"] != scores["regions"]  # the head is used, not just recorded
    for head in ("pooled", "regions"):
        args = ["--gan", "gan/synthetic", "--detector", f"detector/{head}", "--plots", "--name", f"{head}-plots"]
        r = invoke("evaluate", *args, "--store", two_sets)
        assert r.exit_code == 0, r.output
    assert not (store.resolve("eval/pooled-plots", "eval").path / "plots" / "regions.png").exists()
    drawn = store.resolve("eval/regions-plots", "eval").path
    assert (drawn / "plots" / "regions.png").stat().st_size > 0
    assert 'src="regions.png"' in (drawn / "plots" / "index.html").read_text()
    # Scoring from the cell maps gives the detector's own frame scores.
    read = {
        name: np.genfromtxt(path / "scores.csv", delimiter=",", names=True)
        for name, path in (("plain", store.resolve("eval/regions", "eval").path), ("plots", drawn))
    }
    assert np.allclose(read["plain"]["score_detector"], read["plots"]["score_detector"], rtol=1e-5, atol=1e-7)
    r = invoke("train-detector", *common, "--head", "grid")
    assert r.exit_code == 2 and "head" in r.output


def test_an_ensembles_cell_maps_give_its_frame_logits():
    from vgisgan.models.detector import build_detector, cell_logits

    torch.manual_seed(0)
    model = build_detector({"channels": 1, "t_past": 4, "width": 4, "head": "regions", "members": 3}).eval()
    past, cand = torch.randn(2, 4, 32, 32), torch.randn(2, 1, 32, 32)
    with torch.no_grad():
        maps = cell_logits(model, past, cand)  # (B, M, h, w)
        assert maps.shape == (2, 3, 2, 2)
        assert torch.allclose(maps.amax(dim=(2, 3)).mean(dim=1), model(past, cand))
        assert torch.equal(maps[:, 1], model.members[1].region_logits(model.members[1].feature_maps(past, cand, None)))
    pooled = build_detector({"channels": 1, "t_past": 4, "width": 4, "members": 2})
    with pytest.raises(ValueError, match="only a detector with the regions head"):
        cell_logits(pooled, past, cand)


def test_evaluate_scores_a_frame_by_the_detectors_logit():
    """score_detector is the detector's own logit (P(abnormal) in float32 is 1.0 above about 16.6 and ties)."""
    from vgisgan.models.detector import build_detector
    from vgisgan.stages.evaluate import score_video

    torch.manual_seed(0)
    model = build_detector({"channels": 1, "t_past": 4, "width": 4, "head": "regions", "members": 2}).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(40)  # confident enough that some sigmoids round to 0.0 or 1.0 in float32
    frames = np.random.default_rng(0).integers(0, 256, (9, 32, 32, 1), dtype=np.uint8)
    out = score_video(frames, 4, None, 0, model, 4, 3, torch.device("cpu"))
    x = to_tensor(frames)
    past = torch.stack([x[p - 4 : p].flatten(0, 1) for p in range(4, 9)])
    with torch.no_grad():
        expected = model(past, x[4:]).numpy()
    assert np.allclose(out["score_detector"], expected, rtol=1e-5, atol=1e-5)
    assert len(np.unique(out["score_detector"])) == 5
    assert len(np.unique(torch.sigmoid(torch.from_numpy(expected)).numpy())) < 5  # P would have tied them


FLIP = ("plain", "mirrored")  # the views of 0.17.0's test-time flip


def _regions_pair_and_clip(frame_seed: int):
    """A two-member regions detector (2x2 cells on 32x32 frames), a random 9-frame clip, and its frames 4..8 with
    their 4 past frames: (model, frames (9, 32, 32, 1) uint8, x (9, 1, 32, 32), past (5, 4, 32, 32))."""
    from vgisgan.models.detector import build_detector

    torch.manual_seed(0)
    model = build_detector({"channels": 1, "t_past": 4, "width": 4, "head": "regions", "members": 2}).eval()
    frames = np.random.default_rng(frame_seed).integers(0, 256, (9, 32, 32, 1), dtype=np.uint8)
    x = to_tensor(frames)
    return model, frames, x, torch.stack([x[p - 4 : p].flatten(0, 1) for p in range(4, 9)])


def test_the_test_time_flip_averages_the_clips_and_the_mirrored_clips_logits():
    from vgisgan.models.detector import cell_logits
    from vgisgan.stages.evaluate import score_video

    model, frames, x, past = _regions_pair_and_clip(0)
    with torch.no_grad():
        expected = ((model(past, x[4:]) + model(past.flip(-1), x[4:].flip(-1))) / 2).numpy()
        mirrored = cell_logits(model, past.flip(-1), x[4:].flip(-1)).mean(1).flip(-1)  # (5, h, w), back on the frame
        maps = cell_logits(model, past, x[4:]).mean(1) + mirrored
    for cells in (False, True):
        out = score_video(frames, 4, None, 0, model, 4, 3, torch.device("cpu"), cells=cells, views=FLIP)
        assert np.allclose(out["score_detector"], expected, rtol=1e-5, atol=1e-5)
    assert np.allclose(out["cells"], maps.numpy() / 2, rtol=1e-5, atol=1e-5)  # mirrored back onto the frame
    plain = score_video(frames, 4, None, 0, model, 4, 3, torch.device("cpu"))["score_detector"]
    assert not np.allclose(plain, expected, atol=1e-3)
    # A clip that is its own mirror image scores the same either way.
    symmetric = np.concatenate([frames[:, :, :16], frames[:, :, :16][:, :, ::-1]], axis=2)
    a, b = (score_video(symmetric, 4, None, 0, model, 4, 3, torch.device("cpu"), views=v) for v in (("plain",), FLIP))
    assert np.allclose(a["score_detector"], b["score_detector"], rtol=1e-5, atol=1e-5)


class FrameIndexCache:
    """Two test videos of 6 2x2 frames whose every pixel is the frame's index (what top_frames reads)."""

    def videos(self, split):
        return [VideoInfo(name, 0, 6, 25.0, (2, 2), "x") for name in ("a", "b")]

    def clip(self, split, video, start, n):
        return np.arange(start, start + n, dtype=np.uint8)[:, None, None, None] * np.ones((1, 2, 2, 1), np.uint8)


def test_the_region_plots_show_each_videos_highest_scoring_frame():
    from vgisgan.stages.evaluate import top_frames

    table = {
        "video": np.array(["b", "b", "b", "a", "a"], dtype=object),  # not in the cache's order
        "frame": np.array([4, 5, 3, 5, 4]),
        "score_detector": np.array([-1.0, 2.0, 0.0, -2.0, 1.0]),  # logits
        "cells": np.arange(5, dtype=np.float32)[:, None, None] * np.ones((1, 2, 2), np.float32),
        "label": np.array([0, 1, 0, 0, 1]),
    }
    panels = top_frames(table, FrameIndexCache())
    assert [(p["video"], p["frame"], p["label"]) for p in panels] == [("a", 4, 1), ("b", 5, 1)]
    assert np.allclose([p["p_abnormal"] for p in panels], 1 / (1 + np.exp([-1.0, -2.0])))  # titled with P, not logit
    assert (panels[0]["image"] == 4).all() and panels[0]["image"].shape == (2, 2, 1)
    assert (panels[0]["cells"] == 4).all() and (panels[1]["cells"] == 1).all()  # the rows' own maps


def test_cell_levels_score_each_members_cells_against_their_level_in_each_view():
    from vgisgan.models.detector import cell_logits
    from vgisgan.stages.evaluate import score_video

    model, frames, x, past = _regions_pair_and_clip(1)
    levels = {"plain": 3 * torch.rand(2, 2, 2), "mirrored": 3 * torch.rand(2, 2, 2)}  # (M, h, w)
    with torch.no_grad():
        plain = (cell_logits(model, past, x[4:]) - levels["plain"]).amax(dim=(2, 3)).mean(1)
        mirrored = (cell_logits(model, past.flip(-1), x[4:].flip(-1)) - levels["mirrored"]).amax(dim=(2, 3)).mean(1)
    out = score_video(frames, 4, None, 0, model, 4, 3, torch.device("cpu"), views=FLIP, levels=levels)
    assert np.allclose(out["score_detector"], ((plain + mirrored) / 2).numpy(), rtol=1e-5, atol=1e-5)
    # The same level in every cell only shifts every frame's score by it: the ranking is the unlevelled one.
    flat = {v: torch.full((2, 2, 2), 1.5) for v in ("plain", "mirrored")}
    shifted = score_video(frames, 4, None, 0, model, 4, 3, torch.device("cpu"), views=FLIP, levels=flat)
    as_is = score_video(frames, 4, None, 0, model, 4, 3, torch.device("cpu"), views=FLIP)
    assert np.allclose(shifted["score_detector"], as_is["score_detector"] - 1.5, rtol=1e-5, atol=1e-5)


def test_measure_levels_is_each_members_mean_cell_logit_over_its_videos_in_each_view(frames_store):
    from vgisgan.levels import measure_levels
    from vgisgan.models.detector import build_member, cell_logits

    cache = FrameCache(Store(frames_store).resolve("frames/synthetic", "frames").path)
    torch.manual_seed(0)
    config = {"channels": 1, "t_past": 4, "width": 4, "head": "regions"}
    members = [build_member(config).eval() for _ in range(2)]
    levels = measure_levels(members, [[0], [1, 2]], cache, 4, 7, torch.device("cpu"))
    assert set(levels) == {"plain", "mirrored", "reversed", "reversed-mirrored"} and levels["plain"].shape == (2, 2, 2)
    for m, (member, videos) in enumerate(zip(members, [[0], [1, 2]])):
        per_video = {v: to_tensor(np.asarray(cache.video("train", v))) for v in videos}
        clips = [(v, p) for v in videos for p in range(4, len(per_video[v]))]  # each frame with 4 past frames
        past = torch.stack([per_video[v][p - 4 : p].flatten(0, 1) for v, p in clips])
        target = torch.stack([per_video[v][p] for v, p in clips])
        backwards = torch.stack([per_video[v][[p, p - 1, p - 2, p - 3]].flatten(0, 1) for v, p in clips])
        first = torch.stack([per_video[v][p - 4] for v, p in clips])  # the reversed window's candidate
        with torch.no_grad():
            expected = {
                "plain": cell_logits(member, past, target),
                "mirrored": cell_logits(member, past.flip(-1), target.flip(-1)),
                "reversed": cell_logits(member, backwards, first),
                "reversed-mirrored": cell_logits(member, backwards.flip(-1), first.flip(-1)),
            }
        for view, cells in expected.items():
            assert torch.allclose(levels[view][m], cells[:, 0].mean(0), atol=1e-5), view
        assert not torch.allclose(levels["plain"][m], levels["mirrored"][m], atol=1e-4)
        assert not torch.allclose(expected["plain"], expected["reversed"], atol=1e-4)  # each window's, not their mean


def test_load_levels_names_the_file_of_levels_that_do_not_fit(tmp_path):
    from vgisgan.levels import LEVELS_FILE, load_levels, save_levels

    assert load_levels(tmp_path, 3, torch.device("cpu")) is None  # a detector made before 0.18.0
    save_levels({"plain": torch.zeros(2, 2, 2), "mirrored": torch.zeros(2, 2, 2)}, tmp_path)  # as 0.18.0 wrote
    assert set(load_levels(tmp_path, 2, torch.device("cpu"))) == {"plain", "mirrored"}
    with pytest.raises(VgisganError, match=f"{LEVELS_FILE}.*3 members.*train the detector again"):
        load_levels(tmp_path, 3, torch.device("cpu"))
    save_levels({"plain": torch.zeros(2, 2, 2), "reversed": torch.zeros(2, 2, 2)}, tmp_path)
    with pytest.raises(VgisganError, match=f"{LEVELS_FILE}.*plain and mirrored views"):
        load_levels(tmp_path, 2, torch.device("cpu"))


def test_the_reversed_views_score_the_same_window_played_backwards():
    from vgisgan.models.detector import cell_logits
    from vgisgan.stages.evaluate import score_video
    from vgisgan.views import chosen_views, detector_scores

    model, frames, x, past = _regions_pair_and_clip(2)
    backwards = torch.stack([x[[p, p - 1, p - 2, p - 3]].flatten(0, 1) for p in range(4, 9)])  # newest frame first
    first = x[0:5]  # frame p-4 of the window that ends at frame p: the reversed view's candidate
    clips = {
        "plain": (past, x[4:]),
        "mirrored": (past.flip(-1), x[4:].flip(-1)),
        "reversed": (backwards, first),
        "reversed-mirrored": (backwards.flip(-1), first.flip(-1)),
    }
    levels = {v: 3 * torch.rand(2, 2, 2) for v in clips}  # (M, h, w)
    with torch.no_grad():
        each = {v: (cell_logits(model, *c) - levels[v]).amax(dim=(2, 3)).mean(1) for v, c in clips.items()}
    assert chosen_views(True, True) == tuple(clips)
    assert chosen_views(False, True) == ("plain", "reversed") and chosen_views(False, False) == ("plain",)
    out = score_video(frames, 4, None, 0, model, 4, 3, torch.device("cpu"), views=tuple(clips), levels=levels)
    assert np.allclose(out["score_detector"], torch.stack(list(each.values())).mean(0).numpy(), rtol=1e-5, atol=1e-5)
    backwards_only = score_video(
        frames, 4, None, 0, model, 4, 3, torch.device("cpu"), views=("reversed",), levels=levels
    )
    assert np.allclose(backwards_only["score_detector"], each["reversed"].numpy(), rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="no reversed view"):  # the prediction is of frame p, not of frame p-4
        detector_scores(model, past, x[4:], x[4:], False, ("plain", "reversed"))


def test_evaluate_uses_the_reversed_views_only_where_they_apply():
    from types import SimpleNamespace

    from vgisgan.config import EvaluateConfig
    from vgisgan.stages.evaluate import detector_views

    regions = {"head": "regions", "inputs": "frames"}
    four = {v: torch.zeros(1, 2, 2) for v in ("plain", "mirrored", "reversed", "reversed-mirrored")}
    cases = [  # (config, levels, flip, the views, a note)
        (regions, four, True, ("plain", "mirrored", "reversed", "reversed-mirrored"), None),
        (regions, four, False, ("plain", "reversed"), None),
        (regions, None, True, ("plain", "mirrored", "reversed", "reversed-mirrored"), None),  # e.g. --no-cell-levels
        (regions, {v: four[v] for v in ("plain", "mirrored")}, True, ("plain", "mirrored"), "before vgisgan 0.19.0"),
        (regions | {"inputs": "frames+error"}, None, True, ("plain", "mirrored"), "from frames alone"),
        ({"arch": "ognet"}, None, True, ("plain", "mirrored"), "from frames alone"),
    ]
    for config, levels, flip, views, note in cases:
        notes: list[str] = []
        det = SimpleNamespace(ref="detector/x@v1", manifest=SimpleNamespace(config=config))
        assert detector_views(det, EvaluateConfig(flip=flip, reverse=True), levels, notes.append) == views
        assert (note is None and not notes) or (len(notes) == 1 and note in notes[0] and "detector/x@v1" in notes[0])
    assert detector_views(det, EvaluateConfig(), None, notes.append) == ("plain", "mirrored")  # the default


@pytest.mark.parametrize("threshold, warned", [(1.01, True), (0.0, False)])
def test_a_detector_with_a_weak_probe_is_named(two_sets, monkeypatch, threshold, warned):
    monkeypatch.setattr("vgisgan.stages.train_detector.WEAK_PROBE_AUC", threshold)
    name = f"probe-threshold-{threshold}"
    r = invoke(
        "train-detector",
        "--pseudo",
        "pseudo/synthetic",
        "--epochs",
        1,
        "--width",
        4,
        "--name",
        name,
        "--store",
        two_sets,
    )
    assert r.exit_code == 0, r.output
    assert Store(two_sets).resolve(f"detector/{name}", "detector").manifest.summary["probe_auc"] is not None
    assert ("has a low probe AUC" in r.output) == warned
