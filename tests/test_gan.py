"""train-gan: the artifact, the gradients the thesis lost, optimizer ownership, resume, DDP."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
from conftest import invoke, prepare_tiny
from safetensors.numpy import load_file as load_numpy

from vgisgan import losses
from vgisgan.checkpoint import load_state
from vgisgan.config import GanModelConfig, TrainGanConfig
from vgisgan.errors import VgisganError
from vgisgan.gan import (
    build_generator,
    build_nets,
    build_optimizers,
    generator_step,
    load_generators,
    pseudo_forward,
    split_clip,
    train_step,
)
from vgisgan.models.flow import HornSchunck, ScriptedFlow, neighbour_mean
from vgisgan.stages import train_gan
from vgisgan.store import Store
from vgisgan.training import decayed_lr

SMALL = ["--width", 4, "--d-width", 4, "--batch-size", 2]


def _nets(seed=0):
    torch.manual_seed(seed)
    m = GanModelConfig(channels=1, size=(32, 32), t_past=4, width=4, d_width=4)
    cfg = TrainGanConfig(width=4, d_width=4)
    nets = build_nets(m, HornSchunck())
    return nets, build_optimizers(nets, cfg), cfg


def _moving_clip(b=2):
    """A bright square moving 1 px per frame to the right: (B, 5, 1, 32, 32) in [-1, 1]."""
    clip = -torch.ones(b, 5, 1, 32, 32)
    for t in range(5):
        clip[:, t, :, 10:18, 8 + t : 16 + t] = 1.0
    return torch.nn.functional.avg_pool2d(clip.flatten(0, 1), 3, 1, 1).view(b, 5, 1, 32, 32)


def test_publishes_artifact_loadable_with_safetensors_alone(store_copy):
    r = invoke("train-gan", "--iters", 2, "--log-every", 1, *SMALL, "--store", store_copy)
    assert r.exit_code == 0, r.output
    art = Store(store_copy).resolve("gan/synthetic", "gan")
    for name in ("g_normal", "g_pseudo", "d_normal", "d_pseudo"):
        weights = load_numpy(str(art.path / f"{name}.safetensors"))
        assert weights and all(v.size for v in weights.values())
    assert art.manifest.config["model"]["width"] == 4
    assert art.manifest.inputs[0].ref == "frames/synthetic@v1"
    assert (art.path / "log.csv").read_text().startswith("iter,")
    assert list((art.path / "samples").glob("*.png"))
    assert not (art.path / "checkpoint.safetensors").exists()  # optimizer state is kept apart


def test_motion_term_sends_gradient_to_both_generators():
    """The thesis computed flows on detached frames: this gradient was zero there."""
    nets, _, cfg = _nets()
    past, last, target = split_clip(_moving_clip())
    for g, loss_fn in (
        (nets.g_normal, lambda f, r: losses.motion_loss(f, r)),
        (nets.g_pseudo, lambda f, r: losses.departure_loss(f, r, margin=1e3)),
    ):
        g.zero_grad()
        gen = pseudo_forward(g, past, target) if g is nets.g_pseudo else g(past)
        loss = loss_fn(nets.flow(last, gen), nets.flow(last, target).detach())
        loss.backward()
        grad = sum(p.grad.abs().sum() for p in g.parameters() if p.grad is not None)
        assert grad > 0


def test_flow_recovers_a_known_shift():
    clip = _moving_clip(1)
    flow = HornSchunck()(clip[:, 2], clip[:, 3])  # square moved +1 px in x
    moving = flow[0, 0, 10:18, 10:18]
    assert 0.5 < moving.mean().item() < 1.5
    assert flow[0, 1, 10:18, 10:18].abs().mean() < 0.3


def test_neighbour_mean_is_horn_schuncks_kernel_with_the_border_replicated():
    x = torch.randn(2, 2, 7, 9)
    kernel = torch.tensor([[1.0, 2, 1], [2, 0, 2], [1, 2, 1]]).div(12).view(1, 1, 3, 3).expand(2, 1, 3, 3)
    padded = torch.nn.functional.pad(x, (1, 1, 1, 1), mode="replicate")
    torch.testing.assert_close(neighbour_mean(x), torch.nn.functional.conv2d(padded, kernel, groups=2))
    corner = (5 * x[0, 0, 0, 0] + 3 * x[0, 0, 0, 1] + 3 * x[0, 0, 1, 0] + x[0, 0, 1, 1]) / 12
    assert neighbour_mean(x)[0, 0, 0, 0].item() == pytest.approx(corner.item(), abs=1e-6)  # by hand, replicated


def test_flow_magnitude_has_norms_values_and_gradient_even_at_zero():
    flow = torch.randn(2, 2, 5, 5)
    flow[0, :, 1, 2] = 0.0  # a pixel that does not move: torch.norm's gradient there is 0, a sqrt's is NaN
    mine, ref = flow.clone().requires_grad_(), flow.clone().requires_grad_()
    weights = torch.randn(2, 5, 5)
    (losses.flow_magnitude(mine) * weights).sum().backward()
    (ref.norm(dim=1) * weights).sum().backward()
    torch.testing.assert_close(losses.flow_magnitude(flow), flow.norm(dim=1))
    torch.testing.assert_close(mine.grad, ref.grad)
    assert mine.grad[0, :, 1, 2].abs().sum().item() == 0.0
    assert losses.flow_magnitude(torch.tensor([[[[3.0]], [[4.0]]]])).item() == 5.0


def test_every_optimizer_steps_its_own_parameters_only():
    nets, opts, cfg = _nets()
    before = {k: [p.detach().clone() for p in m.parameters()] for k, m in nets.trainable().items()}
    stats, _ = train_step(nets, opts, cfg, _moving_clip())
    for k, m in nets.trainable().items():
        changed = any(not torch.equal(a, p) for a, p in zip(before[k], m.parameters()))
        assert changed, f"{k} did not change"
    assert {"d_loss_n", "d_loss_p", "psnr_n", "psnr_p", "departure_p"} <= set(stats)


def test_each_generator_gets_its_own_learning_rate():
    nets = build_nets(GanModelConfig(size=(32, 32), width=4, d_width=4), HornSchunck())
    lr = {k: o.param_groups[0]["lr"] for k, o in build_optimizers(nets, TrainGanConfig(lr_g=1e-3)).items()}
    assert lr == {"g_normal": 1e-3, "g_pseudo": 1e-3, "d_normal": 2e-5, "d_pseudo": 2e-5}
    opts = build_optimizers(nets, TrainGanConfig(lr_g=1e-3, lr_pseudo=3e-4))
    assert opts["g_normal"].param_groups[0]["lr"] == 1e-3
    assert opts["g_pseudo"].param_groups[0]["lr"] == 3e-4


def test_generator_step_leaves_no_gradient_in_discriminators():
    nets, opts, cfg = _nets()
    generator_step(nets, opts, cfg, _moving_clip(), amp=False)
    for d in (nets.d_normal, nets.d_pseudo):
        assert all(p.grad is None for p in d.parameters())
        assert all(p.requires_grad for p in d.parameters())


def test_departure_reward_is_bounded():
    a, b = torch.zeros(2, 2, 4, 4), torch.full((2, 2, 4, 4), 100.0)
    assert losses.departure_loss(a, b, margin=1.0).item() == 0.0
    assert losses.departure_loss(a, a, margin=1.0).item() == 1.0


def test_normal_branch_loss_falls_on_a_fixed_batch():
    torch.manual_seed(0)
    m = GanModelConfig(channels=1, size=(32, 32), t_past=4, width=8, d_width=4)
    cfg = TrainGanConfig(width=8, d_width=4, lr_g=2e-3)
    nets = build_nets(m, HornSchunck())
    opts = build_optimizers(nets, cfg)
    clip = _moving_clip()
    first = [train_step(nets, opts, cfg, clip)[0]["g_loss_n"] for _ in range(3)]
    for _ in range(30):
        stats, _ = train_step(nets, opts, cfg, clip)
    assert stats["g_loss_n"] < 0.5 * min(first)


def _final_weights(art):
    return {
        k: v
        for name in ("g_normal", "g_pseudo", "d_normal", "d_pseudo")
        for k, v in load_numpy(str(art.path / f"{name}.safetensors")).items()
    }


def test_interrupted_and_resumed_run_equals_uninterrupted(frames_store, tmp_path):
    import shutil

    cfg = TrainGanConfig(iters=6, batch_size=2, width=4, d_width=4, log_every=1, checkpoint_every=2, sample_every=100)
    a_store, b_store = tmp_path / "a", tmp_path / "b"
    shutil.copytree(frames_store, a_store)
    shutil.copytree(frames_store, b_store)
    whole = train_gan.run(cfg, Store(a_store)).artifact

    def stop_at_3(task, done, total, **fields):
        if done == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train_gan.run(cfg, Store(b_store), progress=stop_at_3)
    assert Store(b_store).list("gan") == []  # nothing published by the interrupted run
    resumed = train_gan.run(cfg, Store(b_store), resume=True).artifact
    assert resumed.manifest.summary["resumed_from"] == 3
    wa, wb = _final_weights(whole), _final_weights(resumed)
    assert wa.keys() == wb.keys()
    assert all((wa[k] == wb[k]).all() for k in wa)
    log = (resumed.path / "log.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in log[1:]] == ["1", "2", "3", "4", "5", "6"]


def test_more_iters_with_resume_extends_a_finished_run(frames_store, tmp_path):
    import shutil

    base = dict(batch_size=2, width=4, d_width=4, log_every=1, checkpoint_every=2, sample_every=100)
    a_store, b_store = tmp_path / "a", tmp_path / "b"
    shutil.copytree(frames_store, a_store)
    shutil.copytree(frames_store, b_store)
    whole = train_gan.run(TrainGanConfig(iters=6, **base), Store(a_store)).artifact
    short = train_gan.run(TrainGanConfig(iters=4, **base), Store(b_store)).artifact
    longer = train_gan.run(TrainGanConfig(iters=6, **base), Store(b_store), resume=True).artifact
    assert (short.manifest.version, longer.manifest.version) == (1, 2)
    assert longer.manifest.summary["resumed_from"] == 4
    wa, wb = _final_weights(whole), _final_weights(longer)
    assert all((wa[k] == wb[k]).all() for k in wa)
    with pytest.raises(VgisganError, match="at iteration 6, past --iters 5"):
        train_gan.run(TrainGanConfig(iters=5, **base), Store(b_store), resume=True)


def test_train_gan_cli_trains_a_finished_run_on(store_copy):
    assert invoke("train-gan", "--iters", 4, *SMALL, "--store", store_copy).exit_code == 0
    r = invoke("train-gan", "--iters", 6, *SMALL, "--resume", "--store", store_copy)
    assert r.exit_code == 0, r.output
    assert "resuming from iteration 4" in r.output
    art = Store(store_copy).resolve("gan/synthetic", "gan")
    assert (art.manifest.version, art.manifest.summary["resumed_from"], art.manifest.summary["iters"]) == (2, 4, 6)
    r = invoke("train-gan", "--iters", 5, *SMALL, "--resume", "--store", store_copy)
    assert r.exit_code == 2 and "past --iters 5" in r.output


def test_train_gan_cli_trains_each_generator_at_its_own_learning_rate(store_copy):
    r = invoke("train-gan", "--iters", 2, *SMALL, "--lr-g", 1e-3, "--lr-pseudo", 3e-4, "--store", store_copy)
    assert r.exit_code == 0, r.output
    art = Store(store_copy).resolve("gan/synthetic", "gan")
    assert (art.manifest.config["train"]["lr_g"], art.manifest.config["train"]["lr_pseudo"]) == (1e-3, 3e-4)
    (ckpt,) = (store_copy / ".work" / "gan").glob("*/*/checkpoint.safetensors")
    state = load_state(ckpt)
    lrs = {k: state[f"optim.{k}"]["param_groups"][0]["lr"] for k in ("g_normal", "g_pseudo", "d_normal")}
    assert lrs == {"g_normal": 1e-3, "g_pseudo": 3e-4, "d_normal": 2e-5}


def test_residual_generator_starts_as_a_copy_of_the_last_frame_and_learns_the_motion():
    torch.manual_seed(0)
    m = GanModelConfig(channels=1, size=(32, 32), t_past=4, width=4, d_width=4, residual=True)
    g = build_generator(m)
    past, last, target = split_clip(_moving_clip())
    assert torch.equal(g(past), last)  # the zero-initialised head adds nothing yet
    opt = torch.optim.Adam(g.parameters(), lr=1e-2)
    for _ in range(30):
        opt.zero_grad()
        losses.intensity_loss(g(past), target).backward()
        opt.step()
    assert losses.psnr(g(past), target).mean() > losses.psnr(last, target).mean() + 1.0  # beats copying
    assert g(past).abs().max() <= 1.0


def test_train_gan_cli_residual_generator_is_rebuilt_from_its_manifest(store_copy):
    r = invoke("train-gan", "--iters", 2, *SMALL, "--residual", "--store", store_copy)
    assert r.exit_code == 0, r.output
    art = Store(store_copy).resolve("gan/synthetic", "gan")
    assert art.manifest.config["model"]["residual"] is True
    _, g_normal, _ = load_generators(art.path, art.manifest.config, torch.device("cpu"))
    heads = []  # what the U-Net's last layer outputs; a residual U-Net adds it to the last frame
    g_normal.out.register_forward_hook(lambda _module, _inputs, out: heads.append(out))
    past, last, _ = split_clip(_moving_clip())
    with torch.no_grad():
        prediction = g_normal(past)
    assert g_normal.residual
    torch.testing.assert_close(prediction, (last + heads[0]).clamp(-1, 1))


def test_decayed_lr_is_constant_then_linear_to_zero():
    # 10 steps, the last 40% decaying: steps 0-6 at the base rate, then (10 - step) / 4 of it.
    rates = [decayed_lr(1.0, step, 10, 0.4) for step in range(10)]
    assert rates == pytest.approx([1, 1, 1, 1, 1, 1, 1, 0.75, 0.5, 0.25])
    assert [decayed_lr(2e-4, step, 10, 0.0) for step in (0, 9)] == [2e-4, 2e-4]


def test_train_gan_cli_decays_the_normal_rate_and_resumes_only_its_own_length(store_copy):
    args = ("train-gan", *SMALL, "--lr-g", 1e-3, "--lr-decay", 0.5, "--log-every", 1, "--store", store_copy)
    r = invoke(*args, "--iters", 4)
    assert r.exit_code == 0, r.output
    art = Store(store_copy).resolve("gan/synthetic", "gan")
    rows = (art.path / "log.csv").read_text().splitlines()
    lr_col = rows[0].split(",").index("lr_n")
    assert [float(row.split(",")[lr_col]) for row in rows[1:]] == pytest.approx([1e-3, 1e-3, 1e-3, 5e-4])
    (ckpt,) = (store_copy / ".work" / "gan").glob("*/*/checkpoint.safetensors")
    assert load_state(ckpt)["optim.g_pseudo"]["param_groups"][0]["lr"] == 1e-3  # only the normal rate decays
    r = invoke(*args, "--iters", 6, "--resume")  # another length is another schedule: no state to continue
    assert r.exit_code == 0, r.output
    assert "continues only at the --iters it started with" in r.output
    assert Store(store_copy).resolve("gan/synthetic", "gan").manifest.summary["resumed_from"] == 0


def test_bad_config_fails_before_training(store_copy):
    r = invoke("train-gan", "--depth", 6, "--store", store_copy)
    assert r.exit_code == 2 and "divisible by 64" in r.output
    assert not (store_copy / ".work").exists()


def test_clips_shorter_than_t_plus_one(tmp_path):
    assert prepare_tiny(tmp_path, train=2, test=1, length=8).exit_code == 0
    r = invoke("train-gan", "--t-past", 8, "--store", tmp_path)
    assert r.exit_code == 2 and "fewer than T+1=9 frames" in r.output


def save_scripted(module: torch.nn.Module, path) -> None:
    """A TorchScript file as a user brings it; making one is deprecated in torch, loading it is what we test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.script(module).save(str(path))


def test_torchscript_flow_file(store_copy, tmp_path):
    class Shift(torch.nn.Module):
        def forward(self, prev: torch.Tensor, nxt: torch.Tensor) -> torch.Tensor:
            d = (nxt - prev).mean(dim=1, keepdim=True)
            return torch.cat([d, -d], dim=1)

    path = tmp_path / "flow.pt"
    save_scripted(Shift(), path)
    r = invoke(
        "train-gan", "--iters", 1, *SMALL, "--flow", "torchscript", "--flow-weights", path, "--store", store_copy
    )
    assert r.exit_code == 0, r.output
    r = invoke(
        "train-gan",
        "--iters",
        1,
        "--flow",
        "torchscript",
        "--flow-weights",
        tmp_path / "nope.pt",
        "--store",
        store_copy,
    )
    assert r.exit_code == 2 and "nope.pt does not exist" in r.output
    (tmp_path / "bad.pt").write_bytes(b"garbage")
    r = invoke(
        "train-gan", "--iters", 1, "--flow", "torchscript", "--flow-weights", tmp_path / "bad.pt", "--store", store_copy
    )
    assert r.exit_code == 2 and "not a TorchScript flow model" in r.output


def test_torchscript_flow_loads_without_a_deprecation_warning(tmp_path):
    class Zero(torch.nn.Module):
        def forward(self, prev: torch.Tensor, nxt: torch.Tensor) -> torch.Tensor:
            return torch.zeros_like(torch.cat([prev, nxt], dim=1))

    path = tmp_path / "flow.pt"
    save_scripted(Zero(), path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a user's run should not print torch's TorchScript deprecation notice
        flow = ScriptedFlow(str(path))
    assert flow(torch.zeros(1, 1, 8, 8), torch.ones(1, 1, 8, 8)).shape == (1, 2, 8, 8)


@pytest.mark.slow
def test_torchrun_two_processes_gloo(store_copy):
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--master-port",
        "29517",
        "-m",
        "vgisgan",
        "train-gan",
        "--iters",
        2,
        "--log-every",
        1,
        *SMALL,
        "--store",
        store_copy,
    ]
    r = subprocess.run(
        [str(c) for c in cmd], capture_output=True, text=True, env=env, timeout=240, cwd=Path(__file__).parents[1]
    )
    assert r.returncode == 0, r.stderr[-3000:]
    arts = Store(store_copy).list("gan")
    assert len(arts) == 1 and arts[0].manifest.summary["world_size"] == 2


def test_warp_mask_keeps_static_pixels_in_place():
    torch.manual_seed(0)
    m = GanModelConfig(channels=1, size=(32, 32), t_past=4, width=4, d_width=4, warp_mask=True)
    nets = build_nets(m, HornSchunck())
    torch.nn.init.normal_(nets.g_pseudo.net.out.weight, std=0.5)  # a generator that wants to move everything
    clip = _moving_clip(1)
    past, _, target = split_clip(clip)
    mask = nets.g_pseudo.motion_mask(past)
    assert mask[0, 0, 12, 14] == 1.0  # on the moving square
    assert mask[0, 0, 28, 2] == 0.0  # far from it
    out = pseudo_forward(nets.g_pseudo, past, target)
    static = mask[0, 0] == 0
    assert torch.allclose(out[0, 0][static], target[0, 0][static], atol=1e-5)
    assert not torch.allclose(out, target, atol=1e-3)


def test_ffp_pseudo_anomalies_move_away_from_the_real_frame(store_copy):
    """A few dozen iterations are enough for the warp to leave the identity it starts from."""
    r = invoke(
        "train-gan", "--iters", 30, "--log-every", 10, *SMALL, "--batch-size", 4, "--lr-g", 1e-3, "--store", store_copy
    )
    assert r.exit_code == 0, r.output
    gan = Store(store_copy).resolve("gan/synthetic", "gan").manifest.summary
    assert gan["final"]["departure_p"] > 1.0  # pixels of wrong motion, over the 5% of pixels departing most
    assert invoke("generate", "--n", 16, "--store", store_copy).exit_code == 0
    pseudo = Store(store_copy).resolve("pseudo/synthetic", "pseudo").manifest.summary
    assert pseudo["pseudo_vs_real"]["psnr_to_real_db"] < 40  # the identity warp it starts from gives 100 dB
    assert pseudo["pseudo_vs_real"]["mean_abs_diff_to_real"] > 0.5
