"""The `vgisgan` command: a thin Typer layer over the stages in vgisgan/stages."""

from __future__ import annotations

import typer

from vgisgan import __version__
from vgisgan.cli import artifacts, compare, evaluate, generate, prepare, run, synth, train_detector, train_gan
from vgisgan.cli.common import DEBUG

app = typer.Typer(
    name="vgisgan",
    help="Video anomaly detection with GAN pseudo-anomalies: prepare -> train-gan -> generate -> "
    "train-detector -> evaluate, each stage reading and writing versioned artifacts in a store.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"vgisgan {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks instead of one-line errors."),
) -> None:
    """Video anomaly detection with GAN pseudo-anomalies."""
    DEBUG.set(debug)


app.command("prepare")(prepare.prepare)
app.command("synth")(synth.synth)
app.command("train-gan")(train_gan.train_gan)
app.command("generate")(generate.generate)
app.command("train-detector")(train_detector.train_detector)
app.command("evaluate")(evaluate.evaluate)
app.command("run")(run.run)
app.command("compare")(compare.compare)
app.add_typer(artifacts.app, name="artifacts")


def main() -> None:
    app()
