"""Terminal etiquette: progress on stderr only (live on a terminal, absent in pipes), stdout clean for machine
formats, NO_COLOR honoured, --quiet quiet."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
import threading

import pytest

from tests.conftest import ROOT, SCENARIOS, run_cli

INCIDENT = SCENARIOS / "staging-vpc-connector-saturation.yaml"
HEALTHY = SCENARIOS / "staging-healthy.yaml"
# SGR sequences that set a foreground or background colour (30-37, 38;..., 40-47, 48;..., 90-97, 100-107).
COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:;[0-9;]*)?m")


def _drain(fd: int, into: bytearray) -> None:
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed its end
            return
        if not chunk:
            return
        into.extend(chunk)


def run_on_terminal(*args: str, stdout_tty: bool, no_color: bool) -> tuple[int, str, str]:
    """`infradiag ARGS` with stderr (and stdout if `stdout_tty`) on a pseudo-terminal."""
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM", "CI")}
    env |= {"TERM": "xterm-256color", "COLUMNS": "160", "LINES": "50"}
    if no_color:
        env["NO_COLOR"] = "1"
    err_master, err_slave = pty.openpty()
    out_master, out_slave = pty.openpty() if stdout_tty else (-1, -1)
    process = subprocess.Popen(
        [sys.executable, "-m", "infradiag", *args],
        cwd=ROOT,
        env=env,
        stdout=out_slave if stdout_tty else subprocess.PIPE,
        stderr=err_slave,
        stdin=subprocess.DEVNULL,
    )
    os.close(err_slave)
    err = bytearray()
    readers = [threading.Thread(target=_drain, args=(err_master, err))]
    out = bytearray()
    if stdout_tty:
        os.close(out_slave)
        readers.append(threading.Thread(target=_drain, args=(out_master, out)))
    for reader in readers:
        reader.start()
    if not stdout_tty:
        assert process.stdout is not None
        out.extend(process.stdout.read())
    code = process.wait(timeout=120)
    for reader in readers:
        reader.join(timeout=10)
    os.close(err_master)
    if stdout_tty:
        os.close(out_master)
    return code, out.decode(), err.decode()


@pytest.mark.process
def test_machine_formats_keep_stdout_clean_while_progress_runs_on_the_terminal() -> None:
    code, out, err = run_on_terminal(
        "triage", "--scenario", str(INCIDENT), "--format", "json", stdout_tty=False, no_color=False
    )
    assert code == 1
    assert json.loads(out)["schema"] == "infradiag.triage/v1"  # nothing but the report
    assert "probing services, collecting evidence" in err  # the live progress, on stderr
    assert "\x1b[" in err  # drawn and cleared with terminal control sequences


@pytest.mark.process
def test_no_color_on_a_terminal_means_no_colour_anywhere() -> None:
    code, out, err = run_on_terminal("triage", "--scenario", str(INCIDENT), stdout_tty=True, no_color=True)
    assert code == 1
    assert "VPC connector staging-conn is out of capacity" in out
    assert not COLOUR.search(out) and not COLOUR.search(err)


@pytest.mark.process
def test_a_terminal_without_no_color_gets_colour() -> None:
    # The counterpart of the test above: it shows the colour check can see colour.
    code, out, _ = run_on_terminal("triage", "--scenario", str(INCIDENT), stdout_tty=True, no_color=False)
    assert code == 1
    assert COLOUR.search(out)


@pytest.mark.process
def test_quiet_shows_no_progress_even_on_a_terminal() -> None:
    code, out, err = run_on_terminal(
        "gate", "--scenario", str(HEALTHY), "--quiet", "--format", "json", stdout_tty=False, no_color=False
    )
    assert code == 0
    assert json.loads(out)["verdict"] == "healthy"
    assert err.strip() == ""


def run_to_pipes(*args: str) -> tuple[int, str, str]:
    """`infradiag ARGS` in this process (no interpreter start-up), stdout and stderr captured, under a colour
    terminal's TERM and neither NO_COLOR nor FORCE_COLOR: only that the streams are no terminal can keep
    colour and progress out."""
    result = run_cli(*args, env={"NO_COLOR": None, "FORCE_COLOR": None, "TERM": "xterm-256color"})
    return result.returncode, result.stdout, result.stderr


@pytest.mark.parametrize("command", ["triage", "gate"])
@pytest.mark.parametrize("output", ["json", "markdown"])
def test_pipes_get_no_escape_sequences_and_no_progress(command: str, output: str) -> None:
    code, stdout, stderr = run_to_pipes(command, "--scenario", str(INCIDENT), "--format", output)
    assert code == 1
    assert "\x1b" not in stdout and "\x1b" not in stderr
    if output == "json":
        json.loads(stdout)
    else:
        assert stdout.startswith("## infradiag: staging-vpc-connector-saturation is DOWN")
    assert "probing services" not in stderr  # no progress redraws in a log


def test_triage_to_a_pipe_prints_nothing_on_stderr() -> None:
    result = run_cli("triage", "--scenario", str(HEALTHY), "--format", "json")
    assert result.returncode == 0
    assert result.stderr == ""
