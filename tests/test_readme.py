"""The README's two opening commands are what users and CI run: keep them and .ci/run in step."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _opening_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = text.split("```bash", 1)[1].split("```", 1)[0]
    return [line.strip() for line in block.strip().splitlines() if line.strip() and not line.startswith("#")]


def test_readme_opens_with_pipeline_and_test_commands():
    run_cmd, test_cmd = _opening_commands()[:2]
    assert "vgisgan run synthetic" in run_cmd
    assert "pytest" in test_cmd


def test_ci_runs_the_readme_test_command():
    test_cmd = _opening_commands()[1]
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_cmd in [line.strip() for line in ci]
