"""Monitoring series joined to the connectors they describe, for the report's sparklines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from infradiag.collect.join import connector_series, connector_throughput_series
from infradiag.evidence import ConnectorEvidence
from infradiag.evidence.metrics import CONNECTOR_INSTANCES, CONNECTOR_SENT_BYTES

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
        CONNECTOR_INSTANCES,
        "max per minute",
        points,
        NOW - timedelta(minutes=15),
        NOW,
        60,
        limit=lambda c: c.max_instances,
    )
    assert series.resource == "projects/p/locations/r/connectors/c"
    assert series.points == [2.0, 3.0, 3.0]
    assert series.limit == 3
    assert connector_series([_connector("c")], CONNECTOR_INSTANCES, "x", None, NOW, NOW, 60) == []


def test_throughput_is_sent_plus_received_in_mbps_against_the_machine_ceiling() -> None:
    sent = {("c",): {MINUTES[2]: 25_000_000.0, MINUTES[1]: 5_000_000.0}}  # bytes/s
    received = {("c",): {MINUTES[2]: 12_500_000.0}}
    [series] = connector_throughput_series(
        [_connector("c")], sent, received, NOW - timedelta(minutes=15), NOW
    )
    assert series.metric == CONNECTOR_SENT_BYTES
    assert series.points == [40.0, 300.0]  # 5 MB/s, then 25 + 12.5 MB/s, in Mbps
    assert series.limit == 300.0  # 3 x e2-micro at 100 Mbps each (fixes/sizing.py)
    unknown_size = connector_throughput_series([_connector("c", None)], sent, received, NOW, NOW)
    assert unknown_size[0].limit is None
    assert connector_throughput_series([_connector("c")], sent, None, NOW, NOW) == []  # half would mislead
