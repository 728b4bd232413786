"""Layering: the pipeline never imports the twin (only the CLI, cli.py and commands/, starts it); CEL is a
bottom layer; probe and config do not depend on diagnosis."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT


def test_no_pipeline_stage_imports_the_twin() -> None:
    offenders = []
    for path in (ROOT / "infradiag").rglob("*.py"):
        relative = path.relative_to(ROOT / "infradiag").as_posix()
        if relative.startswith(("twin/", "commands/")) or relative == "cli.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{relative}: {n}" for n in names if n.startswith("infradiag.twin")]
    assert offenders == []


def test_google_clients_stay_inside_collect() -> None:
    offenders = []
    for path in (ROOT / "infradiag").rglob("*.py"):
        relative = path.relative_to(ROOT / "infradiag").as_posix()
        if relative.startswith(("collect/", "twin/")):
            continue
        if "google.cloud" in path.read_text() or "google.api_core" in path.read_text():
            offenders.append(relative)
    assert offenders == []


def _infradiag_imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return [n for n in names if n == "infradiag" or n.startswith("infradiag.")]


def test_cel_is_a_bottom_layer() -> None:
    offenders = [
        f"{path.relative_to(ROOT).as_posix()}: {name}"
        for path in (ROOT / "infradiag" / "cel").rglob("*.py")
        for name in _infradiag_imports(path)
        if not name.startswith("infradiag.cel")
    ]
    assert offenders == []


def test_probe_and_config_do_not_import_diagnose() -> None:
    offenders = [
        f"{path.relative_to(ROOT).as_posix()}: {name}"
        for package in ("probe", "config")
        for path in (ROOT / "infradiag" / package).rglob("*.py")
        for name in _infradiag_imports(path)
        if name.startswith("infradiag.diagnose")
    ]
    assert offenders == []


def test_fixes_sit_below_diagnose() -> None:
    # A Change is a plain API request built from evidence values: it must not reach back into how the
    # evidence was gathered (collect, the twin) nor into the stages above it.
    above = tuple(f"infradiag.{name}" for name in ("collect", "twin", "diagnose", "plan", "report"))
    offenders = [
        f"{path.relative_to(ROOT).as_posix()}: {name}"
        for path in (ROOT / "infradiag" / "fixes").rglob("*.py")
        for name in _infradiag_imports(path)
        if name.startswith(above)
    ]
    assert offenders == []
