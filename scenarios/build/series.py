"""The series helpers the scenario build scripts use: those of infradiag.twin.series (one implementation)."""

from infradiag.twin.series import (
    delta_distribution,
    delta_int,
    fraction_distribution,
    gauge_bool,
    gauge_distribution,
    gauge_double,
    gauge_int,
    ms_distribution,
    rfc3339,
)

__all__ = [
    "delta_distribution",
    "delta_int",
    "fraction_distribution",
    "gauge_bool",
    "gauge_distribution",
    "gauge_double",
    "gauge_int",
    "ms_distribution",
    "rfc3339",
]
