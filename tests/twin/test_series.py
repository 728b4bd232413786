"""The compact series helpers write the public scenario format, points newest first."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from infradiag.twin.scenario import load_scenario
from infradiag.twin.series import delta_int, expand, gauge_bool, gauge_double, gauge_int, ms_distribution

NOW = datetime(2026, 9, 15, 23, 6, 0, tzinfo=UTC)
METRIC = {"type": "vpcaccess.googleapis.com/connector/instances", "labels": {}}
RESOURCE = {"type": "vpc_access_connector", "labels": {"connector_name": "conn"}}


@pytest.mark.parametrize(
    ("pattern", "values"),
    [
        ("5", [5.0]),
        ("2*3", [2.0, 2.0, 2.0]),
        ("2..8*4", [2.0, 4.0, 6.0, 8.0]),
        ("1, 0.5..1.5*3  7*2", [1.0, 0.5, 1.0, 1.5, 7.0, 7.0]),
        ("-1..1*3", [-1.0, 0.0, 1.0]),
        ("4..4*1", [4.0]),
    ],
)
def test_expand(pattern: str, values: list[float]) -> None:
    assert expand(pattern) == values


@pytest.mark.parametrize("pattern", ["abc", "2..8", "3*0", "1*2*3"])
def test_expand_rejects_what_it_cannot_read(pattern: str) -> None:
    with pytest.raises(ValueError, match="pattern item"):
        expand(pattern)


def test_patterns_are_oldest_first_and_points_newest_first() -> None:
    series = gauge_int(METRIC, RESOURCE, NOW, 4, "2 2 3..4*2")
    assert [p["value"]["int64Value"] for p in series["points"]] == ["4", "3", "2", "2"]
    assert [p["interval"]["endTime"] for p in series["points"]] == [
        "2026-09-15T23:06:00Z",
        "2026-09-15T23:05:00Z",
        "2026-09-15T23:04:00Z",
        "2026-09-15T23:03:00Z",
    ]
    # The same series from a function of age (0 = newest).
    assert gauge_int(METRIC, RESOURCE, NOW, 4, lambda age: [4, 3, 2, 2][age]) == series


def test_delta_points_span_their_minute_and_gauges_are_instants() -> None:
    delta = delta_int(METRIC, RESOURCE, NOW, 2, [10, 20])
    gauge = gauge_double(METRIC, RESOURCE, NOW, 2, "0.123456 0.5")
    assert delta["points"][0]["interval"] == {
        "startTime": "2026-09-15T23:05:00Z",
        "endTime": "2026-09-15T23:06:00Z",
    }
    assert [p["value"]["int64Value"] for p in delta["points"]] == ["20", "10"]
    assert gauge["points"][1]["interval"]["startTime"] == gauge["points"][1]["interval"]["endTime"]
    assert [p["value"]["doubleValue"] for p in gauge["points"]] == [0.5, 0.1235]


def test_one_value_per_point() -> None:
    with pytest.raises(ValueError, match="3 values for 4 points"):
        gauge_int(METRIC, RESOURCE, NOW, 4, "1*3")


def test_ms_distribution_buckets_by_powers_of_two() -> None:
    dist = ms_distribution([0.5, 1, 3, 3, 1000])
    counts = [int(c) for c in dist["bucketCounts"]]
    assert counts[0] == 1 and counts[1] == 1 and counts[2] == 2 and counts[10] == 1
    assert dist["count"] == "5"


def test_helper_output_is_a_valid_scenario(tmp_path: Path) -> None:
    series = [
        gauge_int(METRIC, RESOURCE, NOW, 60, "2*20 2..3*10 3*30"),
        delta_int(
            {"type": "run.googleapis.com/request_count", "labels": {"response_code_class": "5xx"}},
            {"type": "cloud_run_revision", "labels": {"service_name": "backend"}},
            NOW,
            60,
            "0*50 40..60*10",
        ),
        gauge_bool(
            {"type": "cloudsql.googleapis.com/database/up", "labels": {}},
            {"type": "cloudsql_database", "labels": {}},
            NOW,
            60,
            "1*55 0*5",
        ),
    ]
    document = {
        "apiVersion": "infradiag/twin-v1",
        "name": "series",
        "project": "acme-staging",
        "region": "us-central1",
        "now": "2026-09-15T23:06:00Z",
        "monitoring": {"timeSeries": series},
    }
    path = tmp_path / "series.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    loaded = load_scenario(path)
    assert [len(s["points"]) for s in loaded.monitoring.timeSeries] == [60, 60, 60]
    assert loaded.monitoring.timeSeries[2]["points"][0]["value"] == {"boolValue": False}
