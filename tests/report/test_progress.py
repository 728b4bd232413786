"""Status: a live display exactly where rich would draw one, without loading rich where it could not."""

from __future__ import annotations

import pytest
from rich.console import Console

from infradiag.report import progress
from infradiag.report.progress import Status


@pytest.mark.parametrize("variable", ["FORCE_COLOR", "TTY_COMPATIBLE"])
def test_a_variable_that_makes_rich_draw_on_a_pipe_keeps_the_live_display(
    variable: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in progress._TERMINAL_HINTS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv(variable, "1")
    assert Console(stderr=True).is_terminal  # rich draws here although standard error is captured
    assert Status().live


def test_a_pipe_without_such_variables_gets_plain_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in progress._TERMINAL_HINTS:
        monkeypatch.delenv(name, raising=False)
    assert not Console(stderr=True).is_terminal
    assert not Status().live
