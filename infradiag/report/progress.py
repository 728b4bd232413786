"""Progress and status on standard error, so standard output only ever carries the report.

On a terminal, a live rich progress display (spinner, bar, elapsed time) that disappears when done; elsewhere
(CI logs, pipes) plain status lines instead of redraws; with `--quiet`, only warnings. Messages are shown
literally (report/literal.py): never markup, control characters made visible. Colours follow rich's
rules: none when NO_COLOR is set (https://no-color.org), TERM is dumb, or standard error is not a terminal.
"""

from __future__ import annotations

import os
import sys
from types import TracebackType
from typing import TYPE_CHECKING

from infradiag.report.literal import literal, visible

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

# What may make rich take standard error for a terminal besides isatty() (rich/console.py, is_terminal reads
# FORCE_COLOR and TTY_COMPATIBLE; older releases read FORCE_TERMINAL). A name too many only loads rich to ask
# it; one missing would lose the live display where rich would show it.
_TERMINAL_HINTS = ("FORCE_COLOR", "FORCE_TERMINAL", "TTY_COMPATIBLE")


def _may_be_terminal() -> bool:
    return sys.stderr.isatty() or any(os.environ.get(name) for name in _TERMINAL_HINTS)


class Status:
    """What a command shows while it works; a context manager around the live display. Where standard
    error cannot be a terminal, rich (0.05-0.1 s of a cold start) loads with the first line shown."""

    def __init__(self, quiet: bool = False, console: Console | None = None) -> None:
        self._console = console
        self.quiet = quiet
        self.live = not quiet and (console is not None or _may_be_terminal()) and self.console.is_terminal
        self._progress: Progress | None = None
        if self.live:
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                TimeElapsedColumn(),
                console=self.console,
                transient=True,
            )

    @property
    def console(self) -> Console:
        """Where the lines go: rich's console on standard error (made on first use)."""
        if self._console is None:
            from rich.console import Console

            self._console = Console(stderr=True)
        return self._console

    def __enter__(self) -> Status:
        if self._progress is not None:
            self._progress.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._progress is not None:
            self._progress.stop()

    def task(self, description: str, total: float | None = None) -> TaskID | None:
        """A live task (a pulsing bar without `total`); None when nothing is live."""
        if self._progress is None:
            return None
        return self._progress.add_task(visible(description, one_line=True), total=total)

    def update(
        self, task: TaskID | None, description: str | None = None, completed: float | None = None
    ) -> None:
        """Change a live task's text or progress; does nothing when nothing is live."""
        if self._progress is not None and task is not None:
            shown = None if description is None else visible(description, one_line=True)
            self._progress.update(task, description=shown, completed=completed)

    def done(self, task: TaskID | None) -> None:
        """Remove a finished live task."""
        if self._progress is not None and task is not None:
            self._progress.remove_task(task)

    def note(self, message: str) -> None:
        """One status line (above the live display on a terminal); nothing with --quiet."""
        if not self.quiet:
            self.console.print(literal(message, "dim"), soft_wrap=True)

    def error(self, message: str) -> None:
        """The line that says why a command did not pass, shown even with --quiet."""
        self.console.print(literal(f"infradiag: {message}", "bold red"), soft_wrap=True)

    def warn(self, message: str) -> None:
        """A warning line, shown even with --quiet."""
        self.console.print(literal(f"infradiag: warning: {message}", "yellow"), soft_wrap=True)
