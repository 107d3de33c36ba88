"""Shared fixtures: small synthetic data made by the test suite itself, and a CLI runner."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vgisgan.cli.app import app
from vgisgan.config import SyntheticConfig
from vgisgan.data.synthetic import make_dataset

PED2 = Path(__file__).resolve().parents[1].parent / "shared" / "datasets" / "ped2"
TINY = dict(size=32, train_videos=3, test_videos=2, length=24)


def invoke(*args: str):
    """Run the CLI in-process; returns the result (exit_code, output with stdout and stderr)."""
    # A wide terminal keeps Rich from wrapping help and error lines in the captured output.
    return CliRunner().invoke(app, [str(a) for a in args], catch_exceptions=False, env={"COLUMNS": "250"})


@pytest.fixture(scope="session")
def tiny_videos():
    return make_dataset(SyntheticConfig(**TINY))


def prepare_tiny(store: Path, size: int = 32, train: int = 3, test: int = 2, length: int = 24, *extra):
    """`vgisgan prepare synthetic` at a tiny size into `store`; returns the CLI result."""
    return invoke(
        "prepare",
        "synthetic",
        "--synth-size",
        size,
        "--train-videos",
        train,
        "--test-videos",
        test,
        "--length",
        length,
        "--store",
        store,
        *extra,
    )


@pytest.fixture(scope="session")
def frames_store(tmp_path_factory) -> Path:
    """A store holding frames/synthetic@v1 (32x32 gray, 3 train / 2 test videos of 24 frames)."""
    store = tmp_path_factory.mktemp("frames_store")
    r = prepare_tiny(store)
    assert r.exit_code == 0, r.output
    return store


@pytest.fixture
def store_copy(frames_store, tmp_path) -> Path:
    """A private copy of the frames store that a test may add to."""
    dst = tmp_path / "store"
    shutil.copytree(frames_store, dst)
    return dst


@pytest.fixture
def keep_threads():
    """The CLI runs in-process here, and --threads sets torch's count for the process: put it back."""
    import torch

    before = torch.get_num_threads()
    yield before
    torch.set_num_threads(before)


def load_benchmark(name: str):
    """A script of benchmarks/ (not a package) imported as a module, for its functions.

    benchmarks/ goes on sys.path, as it is for a script run directly, so the helpers beside it import."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    if str(path.parent) not in sys.path:
        sys.path.append(str(path.parent))
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
