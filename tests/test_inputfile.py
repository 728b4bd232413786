"""Every input file is read by one reader: a regular file, bounded in size, UTF-8 text, or one usage error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from infradiag.errors import UsageError
from infradiag.inputfile import MAX_INPUT_BYTES, read_text
from tests.conftest import ROOT


def refusal(path: Path, what: str = "file") -> UsageError:
    with pytest.raises(UsageError) as caught:
        read_text(path, what)
    assert "\n" not in caught.value.one_line()
    assert caught.value.where.startswith(str(path))
    assert caught.value.fix
    return caught.value


def test_a_folder_is_named_as_one(tmp_path: Path) -> None:
    error = refusal(tmp_path, "scenario")
    assert "is a folder, not a scenario" in error.problem


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
@pytest.mark.process
def test_a_fifo_is_refused_at_once_rather_than_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "scenario.yaml"
    os.mkfifo(fifo)
    # In a child process: reading a FIFO without a writer used to block forever.
    code = (
        f"from pathlib import Path\nfrom infradiag.inputfile import read_text\nread_text(Path({str(fifo)!r}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT, check=False
    )
    assert "UsageError" in result.stderr
    assert "FIFO" in result.stderr


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null here")
def test_a_device_is_refused() -> None:
    assert "character device" in refusal(Path("/dev/null")).problem


def test_a_missing_file_gets_the_callers_fix(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        read_text(tmp_path / "nope.toml", "config file", "pass --config FILE")
    assert caught.value.problem == "config file not found"
    assert caught.value.fix == "pass --config FILE"


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads any file")
def test_an_unreadable_file_says_so(tmp_path: Path) -> None:
    locked = tmp_path / "locked.yaml"
    locked.write_text("a: 1\n")
    locked.chmod(0)
    assert "permission denied" in refusal(locked).problem


def test_a_file_over_the_limit_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as stream:
        stream.truncate(MAX_INPUT_BYTES + 1)  # sparse: its size, without writing 64 MiB
    error = refusal(huge)
    assert "over the 64 MiB limit" in error.problem


def test_bytes_that_are_not_utf8_are_named_by_line_and_column(tmp_path: Path) -> None:
    latin = tmp_path / "latin1.yaml"
    latin.write_bytes("name: ok\nsummary: caf\xe9\n".encode("latin-1"))
    error = refusal(latin)
    assert error.where == f"{latin}:2"
    assert error.problem == "not UTF-8 text: byte 0xe9 at line 2, column 13"


def test_a_nul_byte_is_not_text(tmp_path: Path) -> None:
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"a = 1\nb = 2\x00\n")
    error = refusal(binary, "config file")
    assert error.where == f"{binary}:2"
    assert "not UTF-8 text: a NUL byte at line 2, column 6" in error.problem


def test_text_reads_back_without_its_byte_order_mark(tmp_path: Path) -> None:
    text = tmp_path / "bom.toml"
    text.write_bytes("\ufeffname = 'café'\n".encode())
    assert read_text(text) == "name = 'café'\n"
