import re

import pytest
from conftest import invoke

from vgisgan import __version__

COMMANDS = ["prepare", "synth", "train-gan", "generate", "train-detector", "evaluate", "run", "artifacts"]


def test_version():
    r = invoke("--version")
    assert r.exit_code == 0 and __version__ in r.output


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command):
    r = invoke(command, "--help")
    assert r.exit_code == 0
    assert "--store" in r.output or command in ("artifacts", "synth")


def test_help_explains_options():
    r = invoke("train-gan", "--help")
    assert "Training iterations" in r.output and "(default: 2000)" in r.output


def test_help_of_an_option_without_a_fixed_default_says_what_happens():
    from vgisgan.config import TrainGanConfig

    assert TrainGanConfig.help("lr_pseudo") == "Learning rate of the pseudo generator (default: the same as --lr-g)."
    assert TrainGanConfig.help("lr_d") == "Discriminator learning rate. (default: 2e-05)"


def test_help_keeps_bracketed_config_sections():
    """Rich reads [word] as markup; the TOML section names must survive into --help."""
    r = invoke("run", "--help")
    assert "[train_detector]" in r.output and "[train_gan] iters" in r.output


@pytest.mark.parametrize("command, ref", [("train-detector", "pseudo/NAME[@vN]"), ("generate", "gan/NAME[@vN]")])
def test_help_keeps_the_optional_version_of_a_reference(command, ref):
    """Rich reads [@...] as markup too; the reference syntax must survive into --help."""
    assert ref in invoke(command, "--help").output


def test_bad_option_value_is_exit_2_with_one_line(tmp_path):
    r = invoke("train-gan", "--iters", "0", "--store", tmp_path)
    assert r.exit_code == 2
    assert "iters" in r.output and "Traceback" not in r.output


def test_unknown_dataset_is_exit_2(tmp_path):
    r = invoke("prepare", "mnist", "--store", tmp_path)
    assert r.exit_code == 2 and "dataset" in r.output


def test_missing_dataset_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VGISGAN_DATA", raising=False)
    r = invoke("prepare", "avenue", "--store", tmp_path / "st")
    assert r.exit_code == 2
    assert "no avenue dataset found" in r.output and "cuhk.edu.hk" in r.output
    assert not (tmp_path / "st" / "frames").exists()


def test_config_file_and_options(tmp_path, frames_store):
    cfg = tmp_path / "gan.toml"
    cfg.write_text("iters = 0\n")
    r = invoke("train-gan", "--config", cfg, "--store", frames_store)
    assert r.exit_code == 2 and str(cfg) in r.output
    cfg.write_text("not toml [")
    r = invoke("train-gan", "--config", cfg, "--store", frames_store)
    assert r.exit_code == 2 and "not valid TOML" in r.output


def test_stage_without_inputs_says_what_to_run(tmp_path):
    r = invoke("train-gan", "--store", tmp_path)
    assert r.exit_code == 2 and "no frames artifact" in r.output


def test_wrong_kind_reference(frames_store):
    r = invoke("train-gan", "--frames", "gan/synthetic", "--store", frames_store)
    assert r.exit_code == 2 and "frames artifact is needed" in r.output


def test_device_cuda_without_gpu_is_a_clear_error(frames_store):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    r = invoke("train-gan", "--device", "cuda", "--iters", 1, "--store", frames_store)
    assert r.exit_code == 2 and "CUDA is not available" in r.output


@pytest.mark.parametrize(
    "module, config",
    [
        ("prepare", "PrepareConfig"),
        ("train_gan", "TrainGanConfig"),
        ("generate", "GenerateConfig"),
        ("train_detector", "DetectorConfig"),
        ("evaluate", "EvaluateConfig"),
    ],
)
def test_every_option_that_names_a_setting_reaches_the_config(module, config):
    """An option declared on a command but never handed to its config would be silently ignored."""
    import importlib
    import inspect

    import vgisgan.config as configs

    command = getattr(importlib.import_module(f"vgisgan.cli.{module}"), module)
    fields = set(getattr(configs, config).model_fields)
    body = inspect.getsource(command).split(") -> None:", 1)[1]
    options = [p for p in inspect.signature(command).parameters if p in fields]
    assert options
    missing = [p for p in options if not re.search(rf"\b{p}=", body)]
    assert missing == []


def test_a_bad_name_is_refused_before_any_stage_runs(tmp_path):
    r = invoke("run", "synthetic", "--preset", "tiny", "--name", "../elsewhere", "--store", tmp_path)
    assert r.exit_code == 2 and "artifact name '../elsewhere' is not allowed" in r.output
    assert list(tmp_path.iterdir()) == []


def test_a_stage_refuses_a_bad_name_before_its_work(store_copy):
    r = invoke("generate", "--method", "skip-frame", "--n", 4, "--name", "a b", "--store", store_copy)
    assert r.exit_code == 2 and "artifact name 'a b' is not allowed" in r.output
    assert not (store_copy / "pseudo").exists() and not (store_copy / ".tmp" / "pseudo").exists()
