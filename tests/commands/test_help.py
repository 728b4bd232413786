"""`--help` as gcloud and kubectl print it: every command ends with examples that work as shown, a flag shows
no value placeholder, the command lists give each summary whole, and Typer's usage errors are one line."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer.main
from typer._click import Command
from typer.core import TyperGroup, TyperOption

from infradiag.cli import build_app
from infradiag.commands.examples import EXAMPLES
from infradiag.commands.helpformat import Example, examples_text, summary
from tests.conftest import ROOT, run_cli


def _commands(command: Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, TyperGroup):
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))


def _command(path: tuple[str, ...]) -> Command:
    command = typer.main.get_command(build_app())
    for name in path:
        assert isinstance(command, TyperGroup)
        command = command.commands[name]
    return command


PATHS = list(_commands(typer.main.get_command(build_app())))


def _help(path: tuple[str, ...], columns: str = "80") -> str:
    result = run_cli(*path, "--help", env={"COLUMNS": columns})
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def _section(text: str, name: str) -> list[str]:
    """The lines of the help section `name` (from `Name:` to the next unindented line)."""
    lines = text.splitlines()
    start = lines.index(f"{name}:") + 1
    end = next((i for i in range(start, len(lines)) if lines[i] and not lines[i][0].isspace()), len(lines))
    return lines[start:end]


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "infradiag")
def test_every_command_ends_with_the_examples_of_its_table(path: tuple[str, ...]) -> None:
    text = _help(path)
    examples = EXAMPLES.get(" ".join(path), ())
    assert examples, f"no examples for `infradiag {' '.join(path)}` in infradiag/commands/examples.py"
    shown = "\n".join(line.removeprefix("  ") for line in _section(text, "Examples")).strip()
    assert shown == examples_text(examples)
    # Each command line whole on its line, whatever the width: wrapped, it would not paste.
    for example in examples:
        assert f"\n  {example.command}\n" in f"{text}\n"


@pytest.mark.parametrize("path", PATHS, ids=lambda p: " ".join(p) or "infradiag")
def test_a_flag_shows_no_value_placeholder_and_a_value_no_python_type(path: tuple[str, ...]) -> None:
    text = _help(path, columns="200")
    assert "<bool>" not in text
    assert not re.findall(r"<[a-z][\w\[\] ]*>", text)  # <str>, <path>, <int range>: `--deadline DEADLINE`
    flags = [p for p in _command(path).params if isinstance(p, TyperOption) and p.is_flag]
    rows = [line.strip() for line in _section(text, "Options") if line.startswith("  -")]
    for flag in [*flags, "--help"]:
        names = ["--help"] if isinstance(flag, str) else [*flag.opts, *flag.secondary_opts]
        row = next(r for r in rows if re.search(rf"(^|\s){re.escape(max(names, key=len))}(\s|,|$)", r))
        column = re.split(r"\s{2,}", row)[0]  # the names column, up to the help text
        assert sorted(re.split(r",\s*|\s*/\s*", column)) == sorted(names), row


@pytest.mark.parametrize("group", [p for p in PATHS if isinstance(_command(p), TyperGroup)], ids=str)
def test_the_command_list_gives_each_summary_whole(group: tuple[str, ...]) -> None:
    listing = " ".join(" ".join(_section(_help(group), "Commands")).split())
    command = _command(group)
    assert isinstance(command, TyperGroup)
    for name, sub in command.commands.items():
        whole = summary(sub.help)
        assert re.search(r"[.?!]$", whole), f"{name}: its help's first paragraph is not a sentence: {whole}"
        assert f"{name} {whole}" in listing
    assert "..." not in listing


def test_the_summary_is_the_first_paragraph_of_a_command_help() -> None:
    sweep = _command(("sweep",))
    assert summary(sweep.help) == (
        "Triage environments, once or every --every, keep their history and print what changed."
    )
    assert summary("One line.\n  Still the first paragraph.\n\nDetails.") == (
        "One line. Still the first paragraph."
    )


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder as a fresh checkout has it, for the examples' relative paths: infradiag.toml, scenarios/."""
    shutil.copy(ROOT / "infradiag.toml", tmp_path / "infradiag.toml")
    (tmp_path / "scenarios").symlink_to(ROOT / "scenarios")
    return tmp_path


def _all_examples() -> list[Example]:
    unique = {example.command: example for examples in EXAMPLES.values() for example in examples}
    return list(unique.values())


def test_each_example_on_the_bundled_twins_runs_with_the_exit_code_it_shows(workdir: Path) -> None:
    # In the table's order, as a user would try them: `history staging` reads what `sweep` stored.
    wrong = []
    for example in [e for e in _all_examples() if e.run]:
        args = example.command.split()
        assert args[0] == "infradiag"
        result = run_cli(*args[1:], cwd=workdir)
        if result.returncode != example.exits or "Traceback" in result.stderr:
            wrong.append(f"{example.command}: exit {result.returncode}, stderr: {result.stderr[-300:]}")
    assert wrong == []


@pytest.mark.parametrize("example", [e for e in _all_examples() if not e.run], ids=lambda e: e.command)
def test_each_example_for_a_real_project_parses(example: Example) -> None:
    args = example.command.split()[1:]
    command = typer.main.get_command(build_app())
    context = command.make_context("infradiag", list(args))
    while isinstance(command, TyperGroup):
        rest = [*context._protected_args, *context.args]
        name, sub, rest = command.resolve_command(context, rest)
        assert sub is not None, example.command
        command = sub
        context = command.make_context(name, rest, parent=context)  # raises on an unknown flag or value
    assert context.args == [], example.command


@pytest.mark.parametrize(
    ("args", "where"),
    [
        (("triage", "staging", "--format", "xml"), "--format: 'xml' is not one of"),
        (("triage", "staging", "--fail-on", "P9"), "--fail-on: "),
        (("triage", "--no-such-flag"), "infradiag triage: no such option --no-such-flag"),
        (("triage", "--form", "json"), "did you mean --confirm or --format?"),
        (("sweep",), "infradiag sweep: missing argument ENVIRONMENTS"),
        (("history", "staging", "--limit", "0"), "--limit: input should be greater than or equal to 1"),
        (("triag", "staging"), "infradiag: no such command 'triag'"),
        (("playbooks", "show"), "infradiag playbooks show: missing argument ID"),
        (("twin", "check", "a.yaml", "b.yaml"), "got unexpected extra argument"),
    ],
)
def test_a_usage_error_of_typer_is_one_line_naming_where_and_the_fix(
    args: tuple[str, ...], where: str
) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert result.stdout == ""
    line = result.stderr
    assert line.count("\n") == 1 and line.endswith("\n"), line
    assert line.startswith("infradiag: ") and where in line, line
    assert "(fix: " in line and "--help`)" in line, line


def test_infradiag_alone_shows_its_help_and_exits_2() -> None:
    result = run_cli()
    assert result.returncode == 2
    assert result.stderr.startswith("Usage: infradiag [OPTIONS] COMMAND [ARGS]...")
    assert "Examples:" in result.stderr
