"""`infradiag playbooks list | show ID | lint`: the knowledge base, browsable and checkable."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from infradiag.errors import UsageError

playbooks_app = typer.Typer(help="List, show and lint the five-whys playbooks.", no_args_is_help=True)
DirOption = Annotated[
    Path | None, typer.Option("--dir", help="Playbook directory (default: the bundled one).")
]


def _echo(line: str, err: bool = False) -> None:
    # Playbook files may come from anywhere (--dir): their text is shown, its control characters made visible.
    from infradiag.report.literal import visible

    typer.echo(visible(line), err=err)


def _directory(directory: Path | None) -> Path:
    from infradiag.diagnose.playbook import PLAYBOOK_DIR

    return directory or PLAYBOOK_DIR


@playbooks_app.command("list")
def list_playbooks(directory: DirOption = None) -> None:
    """Each playbook with the causes it can conclude."""
    from infradiag.diagnose.playbook import causes_of, load_playbooks

    for playbook in load_playbooks(_directory(directory)):
        _echo(f"{playbook.id:28} {playbook.stage:8} {', '.join(causes_of(playbook.tree))}")


@playbooks_app.command("show")
def show_playbook(
    playbook_id: Annotated[str, typer.Argument(metavar="ID")], directory: DirOption = None
) -> None:
    """One playbook's tree: questions, conditions, and the causes at its leaves."""
    from infradiag.diagnose.playbook import Node, load_playbooks

    books = {p.id: p for p in load_playbooks(_directory(directory))}
    if playbook_id not in books:
        raise UsageError(
            "infradiag playbooks show", f"no playbook {playbook_id!r}", "see `infradiag playbooks list`"
        )
    playbook = books[playbook_id]
    _echo(f"{playbook.id}: {playbook.title}\n  file: {playbook.path}")
    _echo(f"  for each {playbook.as_} in {playbook.for_each}")

    def show(node: Node, depth: int) -> None:
        pad = "  " * depth
        _echo(f"{pad}? {node.question}   [when {node.when}]")
        if node.cause:
            rules = ", ".join(f"{r.level} if {r.when}" if r.when else r.level for r in node.priority)
            _echo(f"{pad}  => {node.cause} ({rules})")
        for child in node.then:
            show(child, depth + 1)

    show(playbook.tree, 1)


@playbooks_app.command("lint")
def lint_playbooks(directory: DirOption = None) -> None:
    """Compile every CEL expression and check fields, causes and cycles; exit 2 on any problem."""
    from infradiag.diagnose.lint import lint_directory

    folder = _directory(directory)
    if not folder.is_dir():
        raise UsageError(str(folder), "playbook directory not found", "pass --dir DIR")
    problems = lint_directory(folder)
    for problem in problems:
        _echo(problem, err=True)
    if problems:
        raise typer.Exit(2)
    typer.echo(f"{len(list(folder.glob('*.yaml')))} playbooks OK")
