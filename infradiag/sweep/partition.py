"""Which environments this task sweeps when a Cloud Run Job runs the sweep as several parallel tasks.

Cloud Run sets CLOUD_RUN_TASK_INDEX (0-based) and CLOUD_RUN_TASK_COUNT in every task of a job execution:
https://cloud.google.com/run/docs/container-contract#jobs-env-vars. Outside Cloud Run both are unset and
the single task sweeps everything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from infradiag.errors import UsageError

INDEX_VAR = "CLOUD_RUN_TASK_INDEX"
COUNT_VAR = "CLOUD_RUN_TASK_COUNT"


@dataclass(frozen=True)
class TaskShare:
    index: int = 0
    count: int = 1


def task_from_environ(environ: Mapping[str, str]) -> TaskShare:
    """This process's task, from the Cloud Run Jobs variables; bad values are a UsageError."""
    count = _integer(environ, COUNT_VAR, "1")
    index = _integer(environ, INDEX_VAR, "0")
    if count < 1:
        raise UsageError(COUNT_VAR, f"must be at least 1, not {count}", f"unset {COUNT_VAR} or fix it")
    if not 0 <= index < count:
        raise UsageError(
            INDEX_VAR, f"{index} is outside 0..{count - 1}", f"set it below {COUNT_VAR} ({count})"
        )
    return TaskShare(index=index, count=count)


def share(environments: Sequence[str], task: TaskShare) -> list[str]:
    """The environments `task` sweeps: the distinct names sorted, dealt round-robin over the tasks. Every
    environment goes to exactly one task, whatever order the names were given in."""
    return [name for i, name in enumerate(sorted(set(environments))) if i % task.count == task.index]


def _integer(environ: Mapping[str, str], name: str, default: str) -> int:
    text = environ.get(name, default).strip() or default
    try:
        return int(text)
    except ValueError:
        raise UsageError(name, f"{text!r} is not an integer", f"unset {name} or set a whole number") from None
