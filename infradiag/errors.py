"""Errors that end a command with a one-line message instead of a traceback."""

from __future__ import annotations


class UsageError(Exception):
    """Bad input (config, playbook, scenario, flag): exit code 2 with file, place and fix."""

    exit_code = 2

    def __init__(self, where: str, problem: str, fix: str | None = None) -> None:
        self.where = where
        self.problem = problem
        self.fix = fix
        super().__init__(self.one_line())

    def one_line(self) -> str:
        """The message as printed: `WHERE: PROBLEM (fix: FIX)`."""
        text = f"{self.where}: {self.problem}"
        return f"{text} (fix: {self.fix})" if self.fix else text
