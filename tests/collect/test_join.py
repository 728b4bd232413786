"""Monitoring series joined to the connectors they describe, for the report's sparklines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from infradiag.collect import signals
from infradiag.collect.join import connector_curves, connector_series, connector_throughput_series
from infradiag.collect.monitoring import Signal
from infradiag.evidence import ConnectorEvidence
from infradiag.evidence.metrics import CONNECTOR_CPU, CONNECTOR_INSTANCES, CONNECTOR_SENT_BYTES

NOW = datetime(2026, 9, 15, 23, 6, 52, tzinfo=UTC)
MINUTES = [NOW - timedelta(minutes=n) for n in (2, 1, 0)]


def _connector(name: str, max_instances: int | None = 3) -> ConnectorEvidence:
    return ConnectorEvidence(
        name=name,
        resource=f"projects/p/locations/r/connectors/{name}",
        region="r",
        state="READY",
        machine_type="e2-micro",
        max_instances=max_instances,
    )


def test_a_series_is_each_connectors_points_oldest_first_with_its_own_limit() -> None:
    points = {("c",): {MINUTES[2]: 3.0, MINUTES[0]: 2.0, MINUTES[1]: 3.0}}  # pages come in any order
    [series] = connector_series(
        [_connector("c"), _connector("quiet")],  # no points for `quiet`: no series
        signals.CONNECTOR_INSTANCES_MAX_PER_MINUTE,
        "max per minute",
        points,
        NOW,
        limit=lambda c: c.max_instances,
    )
    assert series.resource == "projects/p/locations/r/connectors/c"
    assert series.points == [2.0, 3.0, 3.0]
    assert series.limit == 3
    none = connector_series([_connector("c")], signals.CONNECTOR_CPU_P95_PER_MINUTE, "x", None, NOW)
    assert none == []


def test_a_series_takes_its_metric_window_and_period_from_its_signal() -> None:
    slow = Signal(
        "slow",
        CONNECTOR_CPU,
        "vpc_access_connector",
        "ALIGN_MAX",
        "REDUCE_MAX",
        ("resource.labels.connector_name",),
        window=timedelta(minutes=30),
        period=timedelta(minutes=5),
    )
    whole = signals.CONNECTOR_CPU_P95  # no period: one point over its whole window
    [five] = connector_series([_connector("c")], slow, "max per 5 minutes", {("c",): {NOW: 1.0}}, NOW)
    [once] = connector_series([_connector("c")], whole, "p95", {("c",): {NOW: 1.0}}, NOW)
    assert (five.metric, five.start, five.end, five.period_s) == (
        CONNECTOR_CPU,
        NOW - timedelta(minutes=30),
        NOW,
        300,
    )
    assert (once.start, once.period_s) == (NOW - timedelta(minutes=15), 900)


def test_throughput_is_sent_plus_received_in_mbps_against_the_machine_ceiling() -> None:
    sent = {("c",): {MINUTES[2]: 25_000_000.0, MINUTES[1]: 5_000_000.0}}  # bytes/s
    received = {("c",): {MINUTES[2]: 12_500_000.0}}
    [series] = connector_throughput_series([_connector("c")], sent, received, NOW)
    assert series.metric == CONNECTOR_SENT_BYTES
    assert (series.start, series.period_s) == (NOW - timedelta(minutes=15), 60)
    assert series.points == [40.0, 300.0]  # 5 MB/s, then 25 + 12.5 MB/s, in Mbps
    assert series.limit == 300.0  # 3 x e2-micro at 100 Mbps each (fixes/sizing.py)
    unknown_size = connector_throughput_series([_connector("c", None)], sent, received, NOW)
    assert unknown_size[0].limit is None
    unknown_type = _connector("c").model_copy(update={"machine_type": "n1-custom"})
    assert connector_throughput_series([unknown_type], sent, received, NOW)[0].limit is None
    assert connector_throughput_series([_connector("c")], sent, None, NOW) == []  # half would mislead


def test_curves_are_cpu_then_instances_then_throughput_each_per_connector() -> None:
    both = {("a",): {MINUTES[0]: 1.0}, ("b",): {MINUTES[0]: 2.0}}
    answered = {
        signals.CONNECTOR_CPU_P95_PER_MINUTE.name: both,
        signals.CONNECTOR_INSTANCES_MAX_PER_MINUTE.name: both,
        signals.CONNECTOR_SENT_BYTES_RATE.name: both,
        signals.CONNECTOR_RECEIVED_BYTES_RATE.name: {},
    }
    curves = connector_curves([_connector("a"), _connector("b", 5)], answered, NOW)
    assert [(s.metric, s.resource.rsplit("/", 1)[1], s.aggregation, s.limit) for s in curves] == [
        (CONNECTOR_CPU, "a", "p95 per minute", None),
        (CONNECTOR_CPU, "b", "p95 per minute", None),
        (CONNECTOR_INSTANCES, "a", "max per minute", 3),
        (CONNECTOR_INSTANCES, "b", "max per minute", 5),
        (CONNECTOR_SENT_BYTES, "a", "sent + received Mbps per minute", 300.0),
        (CONNECTOR_SENT_BYTES, "b", "sent + received Mbps per minute", 500.0),
    ]
    failed = dict.fromkeys(answered)  # every query failed: nothing to draw
    assert connector_curves([_connector("a")], failed, NOW) == []
