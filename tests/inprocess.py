"""Run `infradiag ARGS` through its console entry point inside the test process (no interpreter start-up),
for the many bad-input cases whose whole point is the exit code and the one line on stderr."""

from __future__ import annotations

import contextlib
import io
import sys

from infradiag.cli import main


def invoke(*args: str) -> tuple[int, str]:
    """(exit code, stderr) of `infradiag ARGS` run by `infradiag.cli.main`, as the installed script runs it.
    Any exception but the command's exit escapes to the test, as it would have been a traceback."""
    stderr = io.StringIO()
    saved = sys.argv
    sys.argv = ["infradiag", *args]
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            main()
    except SystemExit as done:
        code = done.code if isinstance(done.code, int) else 1
    else:
        code = 0
    finally:
        sys.argv = saved
    return code, stderr.getvalue()


def one_line_usage_error(args: tuple[str, ...], *expected: str) -> str:
    """Assert that `infradiag ARGS` ends with exit code 2 and one line of stderr holding each of `expected`,
    and return that line."""
    code, stderr = invoke(*args)
    assert code == 2, stderr
    assert "Traceback" not in stderr
    message = stderr.strip()
    assert message.count("\n") == 0, message
    for part in expected:
        assert part in message, message
    return message
