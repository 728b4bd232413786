"""`infradiag playbooks lint` never passes a directory it could not examine."""

from __future__ import annotations

from pathlib import Path

from tests.inprocess import invoke


def test_a_directory_without_playbooks_does_not_lint_clean(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("not a playbook\n")
    code, stderr = invoke("playbooks", "lint", "--dir", str(tmp_path))
    assert code == 2
    assert stderr == f"{tmp_path}: no playbook (*.yaml) in this directory (fix: pass --dir DIR)\n"
