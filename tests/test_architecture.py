"""The pipeline never imports the twin; only the CLI (cli.py, commands/) starts it."""

from __future__ import annotations

import ast

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
