"""Monitoring signals: their filters, and joining their values to the resources they describe."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from infradiag.collect import join, signals
from infradiag.collect.calls import merge_unknowns
from infradiag.collect.monitoring import newest, peak_of_sum, sum_by_time
from infradiag.evidence import ConnectorEvidence, NatEvidence, Unknown

T0 = datetime(2026, 9, 15, 23, 0, tzinfo=UTC)


def test_every_filter_names_exactly_one_metric_type_and_its_region_label() -> None:
    for signal in signals.SIGNALS:
        text = signal.filter("us-central1")
        assert text.count("metric.type") == 1, signal.name
        assert text.startswith(f'metric.type = "{signal.metric_type}"')
    assert 'resource.labels.region = "us-central1"' in signals.NAT_ALLOCATION_FAILED.filter("us-central1")
    assert "us-central1" not in signals.SQL_CPU_MAX.filter("us-central1")  # Cloud SQL is read project-wide
    assert signals.RUN_REQUESTS_5XX.filter("r").endswith('metric.labels.response_code_class = "5xx"')


def test_signal_names_are_unique() -> None:
    assert len({s.name for s in signals.SIGNALS}) == len(signals.SIGNALS)


def test_peak_of_sum_adds_parts_at_the_same_minute_before_taking_the_peak() -> None:
    minute = timedelta(minutes=1)
    sent = {("c",): {T0: 100.0, T0 + minute: 10.0}}
    received = {("c",): {T0: 1.0, T0 + minute: 95.0}, ("d",): {T0: 5.0}}
    # Each part peaks at a different minute: the sum's peak is 105 at T0 + 1 min, not 100 + 95.
    assert peak_of_sum(sent, received) == {("c",): 105.0, ("d",): 5.0}
    assert newest(sent) == {("c",): 10.0}


def test_sum_by_time_adds_what_each_minute_has() -> None:
    minute = timedelta(minutes=1)
    sent = {("c",): {T0: 100.0, T0 + minute: 10.0}, ("quiet",): {}}
    received = {("c",): {T0 + minute: 95.0, T0 + 2 * minute: 7.0}}
    # A minute only one part has counts that part; a group without points is left out.
    assert sum_by_time(sent, received) == {("c",): {T0: 100.0, T0 + minute: 105.0, T0 + 2 * minute: 7.0}}


def test_the_alignment_period_is_the_period_else_the_whole_window() -> None:
    assert signals.CONNECTOR_CPU_P95_PER_MINUTE.alignment_period == timedelta(minutes=1)
    assert signals.CONNECTOR_CPU_P95.alignment_period == signals.CONNECTOR_CPU_P95.window


def test_connector_throughput_in_megabits() -> None:
    connector = ConnectorEvidence(name="c", resource="r", region="x", state="READY")
    (loaded,) = join.connectors_with_load(
        [connector], {("c",): 0.97}, {("c",): 3.0}, {("c",): {T0: 100_000.0}}, {("c",): {T0: 25_000.0}}
    )
    assert (loaded.cpu_p95, loaded.instances_max, loaded.throughput_mbps) == (0.97, 3, 1.0)
    (unknown,) = join.connectors_with_load([connector], None, None, None, {("c",): {T0: 1.0}})
    assert (unknown.cpu_p95, unknown.instances_max, unknown.throughput_mbps) == (None, None, None)


def test_counts_read_zero_when_the_query_answered_without_series_and_none_when_it_failed() -> None:
    load = join.service_load("api", None, None, None, None, requests={("api",): 50.0}, requests_5xx={})
    assert (load.requests_total, load.requests_5xx) == (50.0, 0.0)
    assert (
        join.service_load(
            "api", None, None, None, None, requests={("api",): 50.0}, requests_5xx=None
        ).requests_5xx
        is None
    )
    nat = NatEvidence(name="n", router="r", network="v", region="x", all_subnets=True)
    (quiet,) = join.nats_with_drops([nat], {}, {})
    assert (quiet.dropped_out_of_resources, quiet.dropped_endpoint_independence_conflict) == (0.0, 0.0)
    assert quiet.allocation_failed is False
    (unknown,) = join.nats_with_drops([nat], None, None)
    assert (unknown.dropped_out_of_resources, unknown.dropped_endpoint_independence_conflict) == (None, None)
    assert unknown.allocation_failed is None


def test_nat_drops_are_read_per_reason_label() -> None:
    nat = NatEvidence(name="n", router="r", network="v", region="x", all_subnets=True)
    other = nat.model_copy(update={"name": "m"})
    by_reason = {("n", "OUT_OF_RESOURCES"): 12.0, ("m", "ENDPOINT_INDEPENDENCE_CONFLICT"): 40.0}
    failing, conflicting = join.nats_with_drops([nat, other], by_reason, {("n",): 2.0})
    assert (failing.dropped_out_of_resources, failing.dropped_endpoint_independence_conflict) == (12.0, 0.0)
    assert failing.allocation_failed is True
    assert (conflicting.dropped_out_of_resources, conflicting.dropped_endpoint_independence_conflict) == (
        0.0,
        40.0,
    )
    assert conflicting.allocation_failed is False


def test_nat_drops_are_one_query_grouped_by_gateway_and_reason() -> None:
    signal = signals.NAT_DROPPED_SENT_PACKETS
    assert signal.group_by == ("resource.labels.gateway_name", "metric.labels.reason")
    # Every reason comes back: the query must not keep only one of them.
    assert "reason" not in signal.filter("us-central1")
    assert (signal.aligner, signal.reducer) == ("ALIGN_DELTA", "REDUCE_SUM")


def test_unknowns_merge_per_api_reason_and_fix() -> None:
    def unknown(source: str, consequence: str) -> Unknown:
        return Unknown(
            source=source, reason="PERMISSION_DENIED", fix=f"grant {source}", consequence=consequence
        )

    failed = [
        unknown("monitoring", "b"),
        unknown("compute", "c"),
        unknown("monitoring", "a"),
        unknown("monitoring", "a"),
    ]
    merged = merge_unknowns(failed)
    assert [(u.source, u.consequence) for u in merged] == [("compute", "c"), ("monitoring", "a; b")]
    # Reads fail on threads of their own: whatever order they failed in, the report says the same.
    for order in itertools.permutations(failed):
        assert merge_unknowns(list(order)) == merged


def test_a_merged_unknown_keeps_the_same_detail_whichever_read_failed_first() -> None:
    def unknown(detail: str) -> Unknown:
        return Unknown(source="compute", reason="UNAVAILABLE", fix="retry", consequence="x", detail=detail)

    assert merge_unknowns([unknown("403 on firewalls"), unknown("403 on routers")]) == merge_unknowns(
        [unknown("403 on routers"), unknown("403 on firewalls")]
    )
