"""Cloud Run Jobs task sharing: every environment is swept by exactly one task."""

from __future__ import annotations

import pytest

from infradiag.errors import UsageError
from infradiag.sweep.partition import TaskShare, share, task_from_environ

NAMES = ["staging", "dev", "qa", "perf", "demo", "canary", "eu-staging"]


@pytest.mark.parametrize("count", [1, 2, 3, 7, 10])
def test_every_environment_goes_to_exactly_one_task(count: int) -> None:
    shares = [share(NAMES, TaskShare(index, count)) for index in range(count)]
    flat = [name for part in shares for name in part]
    assert sorted(flat) == sorted(NAMES)
    assert max(map(len, shares)) - min(map(len, shares)) <= 1  # balanced
    # The order the environments were given in does not matter, nor do duplicates.
    assert shares == [share([*reversed(NAMES), "qa"], TaskShare(index, count)) for index in range(count)]


def test_task_comes_from_the_cloud_run_variables() -> None:
    assert task_from_environ({}) == TaskShare(0, 1)
    assert task_from_environ({"CLOUD_RUN_TASK_INDEX": "2", "CLOUD_RUN_TASK_COUNT": "3"}) == TaskShare(2, 3)


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"CLOUD_RUN_TASK_INDEX": "3", "CLOUD_RUN_TASK_COUNT": "3"}, "CLOUD_RUN_TASK_INDEX"),
        ({"CLOUD_RUN_TASK_INDEX": "x", "CLOUD_RUN_TASK_COUNT": "3"}, "CLOUD_RUN_TASK_INDEX"),
        ({"CLOUD_RUN_TASK_COUNT": "0"}, "CLOUD_RUN_TASK_COUNT"),
    ],
)
def test_bad_task_variables_are_usage_errors(environ: dict[str, str], named: str) -> None:
    with pytest.raises(UsageError) as error:
        task_from_environ(environ)
    assert error.value.where == named
