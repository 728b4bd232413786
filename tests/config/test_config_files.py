"""A config file that cannot be read or parsed ends the command with one line and exit 2, not a traceback."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infradiag.config import load_config
from infradiag.errors import UsageError
from tests.conftest import ROOT, run_cli
from tests.inprocess import one_line_usage_error

REAL = (ROOT / "infradiag.toml").read_text(encoding="utf-8")
# One environment of each kind, small enough to mutate quickly.
SEED = """\
[environments.staging]
twin = "scenarios/staging-healthy.yaml"
suppressions = "accepted.yaml"

[environments.acme]
project = "acme-staging"
region = "us-central1"
services = ["backend", "auth"]
health_path = "/health"

[environments.acme.thresholds]
connector_cpu_saturated = 0.9

[environments.acme.probes.backend]
paths = ["/health", "https://api.acme.example/health"]

[history]
path = ".infradiag/{environment}.sqlite"
keep_days = 30
"""


def triage_with(config: Path) -> tuple[str, ...]:
    return ("triage", "staging", "--config", str(config))


def test_a_folder_as_the_config(tmp_path: Path) -> None:
    one_line_usage_error(triage_with(tmp_path), f"infradiag: {tmp_path}: is a folder, not a config file")


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        (b"[environments.staging]\ntwin = 'x\x97y'\n", 2, "not UTF-8 text: byte 0x97 at line 2"),
        (os.urandom(64).replace(b"\n", b"") + b"\x97", 1, "not UTF-8 text: byte"),
        (b"[environments.staging]\x00\n", 1, "not UTF-8 text: a NUL byte at line 1"),
    ],
    ids=["latin-1", "random bytes", "nul"],
)
def test_binary_config_is_not_text(tmp_path: Path, content: bytes, line: int, words: str) -> None:
    config = tmp_path / "infradiag.toml"
    config.write_bytes(content)
    message = one_line_usage_error(triage_with(config), words)
    assert message.startswith(f"infradiag: {config}:")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_as_the_config_is_refused_rather_than_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "infradiag.toml"
    os.mkfifo(fifo)
    # A process of its own, with a timeout: reading a FIFO that has no writer used to wait forever.
    result = run_cli(*triage_with(fifo), timeout=300)
    assert result.returncode == 2
    assert result.stderr == f"infradiag: {fifo}: is a FIFO (named pipe), not a regular file" + (
        " (fix: copy it to a regular file and pass that)\n"
    )


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("[history]\nkeep_days = 1" + "0" * 5000 + "\n", "invalid TOML: Exceeds the limit"),
        ("x = " + "[" * 20_000 + "\n", "nested too deep"),
    ],
    ids=["5000-digit integer", "20000 nested arrays"],
)
def test_toml_python_cannot_hold_is_a_usage_error(tmp_path: Path, text: str, words: str) -> None:
    config = tmp_path / "infradiag.toml"
    config.write_text(text, encoding="utf-8")
    one_line_usage_error(triage_with(config), f"infradiag: {config}: ", words)


def test_a_toml_syntax_error_names_its_line(tmp_path: Path) -> None:
    config = tmp_path / "infradiag.toml"
    config.write_text('[environments.staging]\nservices = [1,,]\ntwin = "a.yaml"\n', encoding="utf-8")
    one_line_usage_error(triage_with(config), f"infradiag: {config}:2: invalid TOML")
    config.write_text('[environments.staging]\ntwin = "a.yaml"\nservices = [\n', encoding="utf-8")
    one_line_usage_error(triage_with(config), f"infradiag: {config}:4: invalid TOML")


def _loads_or_refuses(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "infradiag.toml"
        path.write_bytes(content)
        try:
            load_config(path)
        except UsageError as error:
            assert "\n" not in error.one_line()


TOMLISH = st.text(alphabet=st.sampled_from(list("[]{}=\".,#\n 0123456789-_:aeTrufls\\'")), max_size=30)
# What a parser or Python cannot hold: long digit runs, deep brackets, bytes that are not UTF-8.
EXTREMES = st.sampled_from(["9" * 5000, "[" * 3000, "{a=" * 3000]).map(str.encode) | st.binary(max_size=8)


@st.composite
def mutated(draw: st.DrawFn, seed: str, alphabet: st.SearchStrategy[str]) -> bytes:
    """`seed` with a slice replaced by arbitrary text or extreme bytes: mostly still valid syntax, with odd
    values and types."""
    start = draw(st.integers(0, len(seed)))
    end = draw(st.integers(start, min(len(seed), start + 40)))
    filler = draw(alphabet.map(str.encode) | EXTREMES)
    return seed[:start].encode() + filler + seed[end:].encode()


FAST = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.binary(max_size=300))
def test_arbitrary_bytes_load_or_are_a_usage_error(content: bytes) -> None:
    _loads_or_refuses(content)


@FAST
@given(st.one_of(mutated(SEED, TOMLISH), mutated(REAL, TOMLISH)))
def test_a_mutated_config_loads_or_is_a_usage_error(content: bytes) -> None:
    _loads_or_refuses(content)
