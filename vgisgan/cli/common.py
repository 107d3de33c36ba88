"""What every command shares: the --store option, error handling, progress bars and notes."""

from __future__ import annotations

import functools
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Callable, TypeVar

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from vgisgan.errors import VgisganError

F = TypeVar("F", bound=Callable[..., Any])

StoreOption = typer.Option(
    Path("artifacts"), "--store", envvar="VGISGAN_STORE", help="Artifact store folder (env VGISGAN_STORE)."
)
ConfigOption = typer.Option(
    None, "--config", exists=False, help="TOML file with this stage's settings; options given here win."
)
ForceOption = typer.Option(False, "--force", help="Make a new version even if one with the same config exists.")
NameOption = typer.Option(None, "--name", help="Artifact name (default: from the dataset or input).")
DeviceOption = typer.Option("auto", "--device", help="auto, cpu, cuda or cuda:N.")
ThreadsOption = typer.Option(
    None,
    "--threads",
    help="CPU threads torch uses (default: OMP_NUM_THREADS or all cores). Results change slightly with it, so "
    "the manifest records it; on a 2-core machine two --threads 1 runs side by side finish sooner than one "
    "after the other.",
)

err_console = Console(stderr=True)
out_console = Console()


# Set by the root callback on every invocation, read when a command fails.
DEBUG: ContextVar[bool] = ContextVar("vgisgan_debug", default=False)


def debug_enabled() -> bool:
    return DEBUG.get()


def handle_errors(fn: F) -> F:
    """Turn VgisganError into one line on stderr and exit 2; anything unexpected into exit 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except VgisganError as e:
            if debug_enabled():
                raise
            err_console.print(f"[bold red]error:[/] {e}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from None
        except KeyboardInterrupt:
            err_console.print("interrupted: nothing half-written was published; training stages resume with --resume")
            raise typer.Exit(130) from None
        except Exception as e:  # noqa: BLE001 - the last line of defence, shown without a traceback
            if debug_enabled():
                raise
            err_console.print(
                f"[bold red]unexpected error:[/] {type(e).__name__}: {e} (run with --debug for the traceback)",
                highlight=False,
                soft_wrap=True,
            )
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def note(message: str) -> None:
    err_console.print(f"[dim]·[/] {message}", highlight=False, soft_wrap=True)


class RichProgress:
    """The CLI's progress callback: one bar per task name, extra fields shown after the bar."""

    def __init__(self) -> None:
        self.bars = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[extra]}"),
            console=err_console,
            transient=False,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> "RichProgress":
        self.bars.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.__exit__(*exc)

    def __call__(self, task: str, completed: int, total: int | None, **fields: object) -> None:
        if task not in self.tasks:
            self.tasks[task] = self.bars.add_task(task, total=total, rate="", extra="")
        tid = self.tasks[task]
        speed = self.bars.tasks[tid].speed if tid < len(self.bars.tasks) else None
        rate = f"{speed:,.1f}/s" if speed else ""
        extra = "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in fields.items())
        self.bars.update(tid, completed=completed, total=total, rate=rate, extra=extra)


def echo(text: str) -> None:
    out_console.print(text, highlight=False, soft_wrap=True)


def run_with_progress(stage_run: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Call a stage's `run` with the CLI's progress bars and notes (the core itself never prints)."""
    with RichProgress() as bars:
        return stage_run(*args, progress=bars, notes=note, **kwargs)
