"""Progress reporting from core code without printing: stages call a callback, the CLI draws bars."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def __call__(self, task: str, completed: int, total: int | None, **fields: object) -> None:
        """Report that `task` has done `completed` of `total` units; `fields` are extra numbers to show."""


def silent(task: str, completed: int, total: int | None, **fields: object) -> None:
    """The default callback: report nothing."""


class Notes(Protocol):
    def __call__(self, message: str) -> None:
        """A one-line remark for the user (which artifact was picked, what was reused)."""


def no_notes(message: str) -> None:
    """The default note sink: drop the remark."""
