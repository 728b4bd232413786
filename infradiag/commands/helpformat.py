"""`--help` as gcloud and kubectl print it: plain text (no Rich, which alone took ~100 ms to import), argument
names in capitals, flags without a value placeholder, each command's summary in full in the command list, and
an Examples section of copy-pasteable invocations."""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import typer
from typer._click import Context, HelpFormatter
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption


@dataclass(frozen=True)
class Example:
    """One invocation shown under Examples: what it does, the command line as typed in a shell, and how
    tests/commands/test_help.py checks it: run on the bundled twins (`run`, expecting exit code `exits`),
    or, for one that needs a real project or runs until stopped, parsed only."""

    purpose: str
    command: str
    exits: int = 0
    run: bool = True


def summary(help_text: str | None) -> str:
    """The first paragraph of a command's help, whole, on one line: its summary in the command list."""
    paragraph = inspect.cleandoc(help_text or "").split("\n\n", 1)[0]
    return " ".join(paragraph.split())


def examples_text(examples: Sequence[Example]) -> str | None:
    """The Examples section's body: a `# purpose` comment line above each command line, so the whole block
    can be pasted into a shell; None without examples."""
    if not examples:
        return None
    blocks = []
    for example in examples:
        outcome = f" (exits {example.exits})" if example.run and example.exits else ""
        blocks.append(f"# {example.purpose}{outcome}\n{example.command}")
    return "\n\n".join(blocks)


def _write_examples(epilog: str | None, formatter: HelpFormatter) -> None:
    if not epilog:
        return
    with formatter.section("Examples"):
        for line in epilog.splitlines():
            # Written as they are: a command line wrapped at the terminal's width would no longer paste.
            formatter.write(f"{' ' * formatter.current_indent}{line}\n" if line else "\n")


def _help_option(option: TyperOption | None) -> TyperOption | None:
    # Typer coerces a value through a pydantic TypeAdapter unless it already is a bool, and builds the adapter
    # (importing pydantic, ~100 ms) even for None (typer/core.py, process_value): `infradiag triage --help`
    # leaves the `--help` of `infradiag` None. A default of False spares that import.
    if option is not None and option.default is None:
        option.default = False
    return option


def _value_name(option: TyperOption) -> str:
    # Typer would show the Python type (`--deadline <str>`, `--fail-on <P0|P1|P2|P3>`).
    described = option.type_descriptor
    if described.is_choice and described.choices is not None:
        return f"[{'|'.join(str(getattr(c, 'value', c)) for c in described.choices)}]"
    return max(option.opts, key=len).lstrip("-").replace("-", "_").upper()


def _argument_name(argument: TyperArgument) -> str:
    name = argument.metavar or (argument.name or "").upper()
    return f"{name}..." if argument.nargs != 1 else name


class HelpCommand(TyperCommand):
    """A command whose help is plain text: `Usage: infradiag triage [OPTIONS] [ENVIRONMENT]`, its help, its
    arguments by name, its options (a flag has no value placeholder, an option's value is named as gcloud
    names it, `--deadline DEADLINE`, unless the option names it itself), then its examples."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for param in self.params:
            if isinstance(param, TyperOption) and not param.is_flag and param.metavar is None:
                param.metavar = _value_name(param)

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = _argument_name(param)
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def format_options(self, ctx: Context, formatter: HelpFormatter) -> None:
        arguments = [
            (_argument_name(p), p.help or "")
            for p in self.get_params(ctx)
            if isinstance(p, TyperArgument) and not p.hidden
        ]
        options = [
            record
            for p in self.get_params(ctx)
            if not isinstance(p, TyperArgument) and (record := p.get_help_record(ctx)) is not None
        ]
        if arguments:
            with formatter.section("Arguments"):
                formatter.write_dl(arguments)
        if options:
            with formatter.section("Options"):
                formatter.write_dl(options)

    def format_epilog(self, ctx: Context, formatter: HelpFormatter) -> None:
        _write_examples(self.epilog, formatter)

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        return _help_option(super().get_help_option(ctx))


class HelpGroup(TyperGroup):
    """A command group whose help lists each command with its whole summary (wrapped, never cut short), then
    the group's examples."""

    def format_commands(self, ctx: Context, formatter: HelpFormatter) -> None:
        rows = [
            (name, summary(command.help))
            for name in self.list_commands(ctx)
            if (command := self.get_command(ctx, name)) is not None and not command.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def format_epilog(self, ctx: Context, formatter: HelpFormatter) -> None:
        _write_examples(self.epilog, formatter)

    def get_help_option(self, ctx: Context) -> TyperOption | None:
        return _help_option(super().get_help_option(ctx))


def with_plain_help(app: typer.Typer, examples: Mapping[str, Sequence[Example]], path: str = "") -> None:
    """Give `app`, its commands and its sub-apps plain help (HelpGroup, HelpCommand) and each the examples
    `examples` has under its path (`""` for the app itself, `"triage"`, `"twin serve"`). Call it once every
    command is registered; a command without examples gets no Examples section (a test requires one)."""
    app.info.cls = HelpGroup
    app.info.epilog = examples_text(examples.get(path, ()))
    for command in app.registered_commands:
        assert command.callback is not None
        name = command.name or command.callback.__name__.lower().replace("_", "-")
        if command.cls in (None, TyperCommand):  # Typer's default: no class of the command's own
            command.cls = HelpCommand
        command.epilog = command.epilog or examples_text(examples.get(f"{path} {name}".strip(), ()))
    for group in app.registered_groups:
        assert group.typer_instance is not None and isinstance(group.name, str)
        with_plain_help(group.typer_instance, examples, f"{path} {group.name}".strip())
