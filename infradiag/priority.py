"""Priorities of findings, P0 (act now) to P3: the one place they are spelled. A bottom layer, imported by
the pipeline and the twin alike."""

from __future__ import annotations

from typing import Literal, get_args

Priority = Literal["P0", "P1", "P2", "P3"]
# Most urgent first.
PRIORITIES: tuple[Priority, ...] = get_args(Priority)
# A smaller number is more urgent: compare priorities through it, never as strings.
PRIORITY_ORDER: dict[str, int] = {priority: rank for rank, priority in enumerate(PRIORITIES)}
# The priorities that make an environment unhealthy and fail a gate unless suppressed.
URGENT: tuple[Priority, ...] = ("P0", "P1")
