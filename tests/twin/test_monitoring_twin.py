"""The Monitoring twin, driven only through the official google-cloud-monitoring clients.

Expected values are computed by hand in each test from the semantics Google documents; each test names
the page or proto it follows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.api import metric_pb2
from google.api_core import exceptions
from google.cloud import monitoring_v3
from google.cloud.monitoring_v3.services.alert_policy_service.transports import (
    AlertPolicyServiceGrpcTransport,
)
from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport

from infradiag.twin.faults import FaultInjector
from infradiag.twin.monitoring import MonitoringServer, start_monitoring_server
from infradiag.twin.requestlog import LoggedCall, RequestLog
from infradiag.twin.scenario import Scenario

T = datetime(2026, 9, 15, 12, 0, 0, tzinfo=UTC)
PROJECT = "projects/acme-staging"
REQUEST_COUNT = "run.googleapis.com/request_count"
INSTANCE_COUNT = "run.googleapis.com/container/instance_count"
CONNECTOR_CPU = "vpcaccess.googleapis.com/connector/cpu/utilizations"
LIST_TIME_SERIES = "/google.monitoring.v3.MetricService/ListTimeSeries"


def at(seconds_before: int) -> datetime:
    return T - timedelta(seconds=seconds_before)


def rfc3339(seconds_before: int) -> str:
    return at(seconds_before).strftime("%Y-%m-%dT%H:%M:%SZ")


def delta_int(values_by_window: Sequence[tuple[int, int, int]]) -> list[dict[str, Any]]:
    """DELTA INT64 points, newest first, from (start seconds before T, end seconds before T, value)."""
    windows = sorted(values_by_window, key=lambda w: w[1])
    return [
        {"interval": {"startTime": rfc3339(s), "endTime": rfc3339(e)}, "value": {"int64Value": str(v)}}
        for s, e, v in windows
    ]


def gauge_int(values_by_time: Sequence[tuple[int, int]]) -> list[dict[str, Any]]:
    """GAUGE INT64 points, newest first, from (seconds before T, value)."""
    return [
        {"interval": {"startTime": rfc3339(s), "endTime": rfc3339(s)}, "value": {"int64Value": str(v)}}
        for s, v in sorted(values_by_time)
    ]


def request_count(service: str, revision: str, code: str, points: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "metric": {
            "type": REQUEST_COUNT,
            "labels": {"response_code_class": f"{code[0]}xx", "response_code": code},
        },
        "resource": {
            "type": "cloud_run_revision",
            "labels": {"service_name": service, "revision_name": revision, "location": "us-central1"},
        },
        "metricKind": "DELTA",
        "valueType": "INT64",
        "points": points,
    }


def scenario(
    time_series: Sequence[dict[str, Any]] = (),
    alert_policies: Sequence[dict[str, Any]] = (),
    faults: Sequence[dict[str, Any]] = (),
) -> Scenario:
    return Scenario.model_validate(
        {
            "apiVersion": "infradiag/twin-v1",
            "name": "monitoring-twin-test",
            "project": "acme-staging",
            "projectNumber": "123456789012",
            "region": "us-central1",
            "now": T.isoformat(),
            "monitoring": {"timeSeries": list(time_series), "alertPolicies": list(alert_policies)},
            "apiFaults": list(faults),
        }
    )


@dataclass
class Twin:
    server: MonitoringServer
    log: RequestLog
    metrics: monitoring_v3.MetricServiceClient
    alerts: monitoring_v3.AlertPolicyServiceClient

    def calls(self) -> list[LoggedCall]:
        return self.log.calls()


@pytest.fixture
def serve() -> Iterator[Callable[[Scenario], Twin]]:
    started: list[tuple[MonitoringServer, list[grpc.Channel]]] = []

    def start(sc: Scenario) -> Twin:
        log = RequestLog()
        server = start_monitoring_server(sc, log, FaultInjector(sc.apiFaults))
        channels = [grpc.insecure_channel(server.address), grpc.insecure_channel(server.address)]
        started.append((server, channels))
        return Twin(
            server,
            log,
            monitoring_v3.MetricServiceClient(transport=MetricServiceGrpcTransport(channel=channels[0])),
            monitoring_v3.AlertPolicyServiceClient(
                transport=AlertPolicyServiceGrpcTransport(channel=channels[1])
            ),
        )

    yield start
    for server, channels in started:
        for channel in channels:
            channel.close()
        server.stop()


def list_series(
    twin: Twin,
    filter: str,
    start: int | None,
    end: int = 0,
    aggregation: dict[str, Any] | None = None,
    view: str = "FULL",
    page_size: int = 0,
) -> Any:
    interval: dict[str, Any] = {"end_time": at(end)}
    if start is not None:
        interval["start_time"] = at(start)
    request: dict[str, Any] = {
        "name": PROJECT,
        "filter": filter,
        "interval": interval,
        "view": getattr(monitoring_v3.ListTimeSeriesRequest.TimeSeriesView, view),
        "page_size": page_size,
    }
    if aggregation is not None:
        request["aggregation"] = aggregation
    return twin.metrics.list_time_series(request=request)


def kind_and_type(series: monitoring_v3.TimeSeries) -> tuple[str, str]:
    """metricKind and valueType names (google.api enums arrive as numbers in the proto-plus message)."""
    descriptor = metric_pb2.MetricDescriptor
    return descriptor.MetricKind.Name(series.metric_kind), descriptor.ValueType.Name(series.value_type)


def points_of(series: monitoring_v3.TimeSeries, field: str) -> list[tuple[datetime, Any]]:
    return [(p.interval.end_time, getattr(p.value, field)) for p in series.points]


# ---------------------------------------------------------------------------------------------------------
# Aggregation
# ---------------------------------------------------------------------------------------------------------


def test_align_rate_on_delta_int64_is_a_gauge_double_per_second(serve: Callable[[Scenario], Twin]) -> None:
    # common.proto, Aligner.ALIGN_RATE: rate = (y1 - y0)/(t1 - t0) over each alignment period; valid for
    # DELTA and CUMULATIVE numeric metrics; "The output is a GAUGE metric with value_type DOUBLE".
    twin = serve(
        scenario(
            [request_count("backend", "r1", "200", delta_int([(180, 120, 90), (120, 60, 30), (60, 0, 120)]))]
        )
    )

    [series] = list_series(
        twin,
        f'metric.type = "{REQUEST_COUNT}"',
        start=180,
        aggregation={"alignment_period": {"seconds": 60}, "per_series_aligner": "ALIGN_RATE"},
    )

    assert kind_and_type(series) == ("GAUGE", "DOUBLE")
    # Newest first; one point at the end of each period, the newest period ending at the interval's end.
    assert points_of(series, "double_value") == [(at(0), 120 / 60), (at(60), 30 / 60), (at(120), 90 / 60)]
    assert all(p.interval.start_time == p.interval.end_time for p in series.points)


def test_align_rate_spreads_a_point_over_the_periods_it_straddles(serve: Callable[[Scenario], Twin]) -> None:
    # common.proto, ALIGN_RATE: "the slope of the line that passes through the value at the start and at
    # the end of the alignment_period", values between points "created by interpolation": a 60 s DELTA
    # point that half overlaps a period contributes half its increase to it.
    points = delta_int([(150, 90, 60), (90, 30, 120)])
    twin = serve(scenario([request_count("backend", "r1", "200", points)]))

    [series] = list_series(
        twin,
        f'metric.type = "{REQUEST_COUNT}"',
        start=120,
        aggregation={"alignment_period": {"seconds": 60}, "per_series_aligner": "ALIGN_RATE"},
    )

    newest = 120 * 30 / 60  # half of (T-90, T-30] lies in (T-60, T]
    older = 60 * 30 / 60 + 120 * 30 / 60  # halves of both points lie in (T-120, T-60]
    assert points_of(series, "double_value") == [(at(0), newest / 60), (at(60), older / 60)]


def test_align_delta_on_cumulative_restarts_from_zero_after_a_reset(
    serve: Callable[[Scenario], Twin],
) -> None:
    # common.proto, ALIGN_DELTA: delta = y1 - y0 per period, valid for CUMULATIVE, output DELTA; TimeInterval:
    # a CUMULATIVE reset "sets a new start time", and the value counts again from zero.
    def point(start: int, end: int, value: int) -> dict[str, Any]:
        return {
            "interval": {"startTime": rfc3339(start), "endTime": rfc3339(end)},
            "value": {"int64Value": str(value)},
        }

    series = {
        **request_count("backend", "r1", "200", []),
        "metricKind": "CUMULATIVE",
        "points": [point(45, 0, 30), point(300, 60, 160), point(300, 120, 100)],
    }
    twin = serve(scenario([series]))

    [aligned] = list_series(
        twin,
        f'metric.type = "{REQUEST_COUNT}"',
        start=120,
        aggregation={"alignment_period": {"seconds": 60}, "per_series_aligner": "ALIGN_DELTA"},
    )

    assert kind_and_type(aligned) == ("DELTA", "INT64")
    # (T-60, T] holds the whole post-reset piece (T-45, T]: 30; (T-120, T-60] holds 160 - 100.
    assert points_of(aligned, "int64_value") == [(at(0), 30), (at(60), 160 - 100)]


def test_reduce_sum_groups_by_a_label_and_keeps_only_that_label(serve: Callable[[Scenario], Twin]) -> None:
    # common.proto, Aggregation.group_by_fields: series with equal values of the grouping fields form one
    # subset; "Fields not specified in group_by_fields are aggregated away". REDUCE_SUM keeps the value
    # type; ALIGN_DELTA converts to DELTA (https://cloud.google.com/monitoring/api/v3/aggregation).
    twin = serve(
        scenario(
            [
                request_count("backend", "r1", "200", delta_int([(120, 60, 10), (60, 0, 20)])),
                request_count("backend", "r2", "201", delta_int([(120, 60, 5), (60, 0, 7)])),
                request_count("backend", "r1", "503", delta_int([(120, 60, 3), (60, 0, 4)])),
                request_count("auth", "a9", "500", delta_int([(120, 60, 1), (60, 0, 2)])),
            ]
        )
    )
    aggregation = {
        "alignment_period": {"seconds": 60},
        "per_series_aligner": "ALIGN_DELTA",
        "cross_series_reducer": "REDUCE_SUM",
        "group_by_fields": ["metric.labels.response_code_class"],
    }

    result = list(list_series(twin, f'metric.type = "{REQUEST_COUNT}"', start=120, aggregation=aggregation))

    by_class = {s.metric.labels["response_code_class"]: s for s in result}
    assert set(by_class) == {"2xx", "5xx"}
    assert points_of(by_class["2xx"], "int64_value") == [(at(0), 20 + 7), (at(60), 10 + 5)]
    assert points_of(by_class["5xx"], "int64_value") == [(at(0), 4 + 2), (at(60), 3 + 1)]
    for series in result:
        assert dict(series.metric.labels).keys() == {"response_code_class"}
        assert series.metric.type == REQUEST_COUNT
        assert series.resource.type == "cloud_run_revision"
        assert dict(series.resource.labels) == {}
        assert kind_and_type(series) == ("DELTA", "INT64")
        assert all(
            p.interval.end_time - p.interval.start_time == timedelta(seconds=60) for p in series.points
        )

    aggregation["group_by_fields"] = ["resource.labels.service_name"]
    result = list(list_series(twin, f'metric.type = "{REQUEST_COUNT}"', start=120, aggregation=aggregation))

    by_service = {s.resource.labels["service_name"]: s for s in result}
    assert points_of(by_service["backend"], "int64_value") == [(at(0), 20 + 7 + 4), (at(60), 10 + 5 + 3)]
    assert points_of(by_service["auth"], "int64_value") == [(at(0), 2), (at(60), 1)]
    assert all(dict(s.metric.labels) == {} for s in result)


def distribution(counts: list[int]) -> dict[str, Any]:
    return {
        "distributionValue": {
            "count": str(sum(counts)),
            "mean": 0.5,
            "bucketOptions": {"explicitBuckets": {"bounds": [0, 0.25, 0.5, 0.75, 1.0]}},
            "bucketCounts": [str(c) for c in counts],
        }
    }


def test_percentile_aligner_on_a_distribution(serve: Callable[[Scenario], Twin]) -> None:
    # common.proto, ALIGN_PERCENTILE_99/50: the percentile of all data points in the period, valid for
    # GAUGE and DELTA distributions, output GAUGE DOUBLE. distribution.proto: explicit bounds
    # [0, .25, .5, .75, 1] give buckets (-inf,0) [0,.25) [.25,.5) [.5,.75) [.75,1) [1,inf).
    # Interpolation (documented in infradiag.twin.timeseries.values.distribution_percentile): rank p/100*N,
    # linear inside the bucket holding it.
    series = {
        "metric": {"type": CONNECTOR_CPU},
        "resource": {"type": "vpc_access_connector", "labels": {"connector_name": "staging-conn"}},
        "metricKind": "GAUGE",
        "valueType": "DISTRIBUTION",
        "points": [
            {"interval": {"endTime": rfc3339(0)}, "value": distribution([0, 0, 2, 2, 2, 0])},
            {"interval": {"endTime": rfc3339(30)}, "value": distribution([0, 1, 2, 1, 0, 0])},
        ],
    }
    twin = serve(scenario([series]))
    # The two points of the period merge into counts [0, 1, 4, 3, 2, 0]: N = 10.
    expected = {
        "ALIGN_PERCENTILE_99": 0.75 + 0.25 * (9.9 - 8) / 2,  # rank 9.9 falls in [.75, 1) after 8 values
        "ALIGN_PERCENTILE_50": 0.25 + 0.25 * (5 - 1) / 4,  # rank 5 falls in [.25, .5) after 1 value
    }

    for aligner, value in expected.items():
        [aligned] = list_series(
            twin,
            f'metric.type = "{CONNECTOR_CPU}" AND resource.labels.connector_name = "staging-conn"',
            start=60,
            aggregation={"alignment_period": {"seconds": 60}, "per_series_aligner": aligner},
        )
        assert kind_and_type(aligned) == ("GAUGE", "DOUBLE")
        assert points_of(aligned, "double_value") == [(at(0), pytest.approx(value))]


def test_align_max_on_a_gauge_int64(serve: Callable[[Scenario], Twin]) -> None:
    # common.proto, ALIGN_MAX: the maximum value in each alignment period, same value type; TimeInterval:
    # reads are half-open (startTime, endTime], so the point at T-120 lies outside (T-120, T].
    series = {
        "metric": {"type": INSTANCE_COUNT, "labels": {"state": "active"}},
        "resource": {"type": "cloud_run_revision", "labels": {"service_name": "backend"}},
        "metricKind": "GAUGE",
        "valueType": "INT64",
        "points": gauge_int([(120, 9), (90, 2), (60, 5), (30, 3), (0, 4)]),
    }
    twin = serve(scenario([series]))

    [aligned] = list_series(
        twin,
        f'metric.type = "{INSTANCE_COUNT}"',
        start=120,
        aggregation={"alignment_period": {"seconds": 60}, "per_series_aligner": "ALIGN_MAX"},
    )

    assert kind_and_type(aligned) == ("GAUGE", "INT64")
    assert points_of(aligned, "int64_value") == [(at(0), max(3, 4)), (at(60), max(2, 5))]

    [raw] = list_series(twin, f'metric.type = "{INSTANCE_COUNT}"', start=120)
    assert points_of(raw, "int64_value") == [(at(0), 4), (at(30), 3), (at(60), 5), (at(90), 2)]


# ---------------------------------------------------------------------------------------------------------
# Views, filters, pagination
# ---------------------------------------------------------------------------------------------------------


def test_headers_view_returns_matching_series_without_points(serve: Callable[[Scenario], Twin]) -> None:
    # metric_service.proto, TimeSeriesView.HEADERS: "the identity of the metric and the time series
    # resource, but not the time series data"; only series with points in the interval are included.
    twin = serve(
        scenario(
            [
                request_count("backend", "r1", "200", delta_int([(60, 0, 1)])),
                request_count("backend", "r1", "503", delta_int([(60, 0, 1)])),
                request_count("auth", "a1", "200", delta_int([(600, 540, 1)])),
            ]
        )
    )

    result = list(list_series(twin, f'metric.type = "{REQUEST_COUNT}"', start=300, view="HEADERS"))

    assert [s.metric.labels["response_code"] for s in result] == ["200", "503"]
    assert all(len(s.points) == 0 for s in result)
    assert all(s.resource.labels["service_name"] == "backend" for s in result)


def test_filter_with_and_or_not_one_of_and_starts_with(serve: Callable[[Scenario], Twin]) -> None:
    # https://cloud.google.com/monitoring/api/v3/filters: metric/resource label comparisons with
    # starts_with, ends_with and one_of, combined with AND, OR, NOT and parentheses.
    one = delta_int([(60, 0, 1)])
    twin = serve(
        scenario(
            [
                request_count("backend", "r1", "503", one),
                request_count("backend", "r1", "404", one),
                request_count("backend", "r1", "200", one),
                request_count("backend", "r1", "204", one),
                request_count("backend-canary", "c1", "500", one),
                request_count("auth", "a1", "500", one),
                {
                    **request_count("backend", "r1", "500", one),
                    "metric": {"type": "run.googleapis.com/other"},
                },
            ]
        )
    )
    flt = (
        f'metric.type = "{REQUEST_COUNT}" AND resource.labels.service_name = starts_with("back") '
        'AND NOT resource.label.service_name = ends_with("-canary") '
        'AND (metric.labels.response_code_class = one_of("4xx", "5xx") '
        'OR metric.labels.response_code = "200")'
    )

    result = list(list_series(twin, flt, start=60))

    assert sorted(s.metric.labels["response_code"] for s in result) == ["200", "404", "503"]


def test_full_view_pages_bound_the_number_of_points(serve: Callable[[Scenario], Twin]) -> None:
    # metric_service.proto, page_size: with view FULL "this is the maximum number of Points returned",
    # with HEADERS the maximum number of TimeSeries; next_page_token continues the listing.
    twin = serve(
        scenario(
            [
                request_count("backend", "r1", "200", delta_int([(120, 60, 1), (60, 0, 2)])),
                request_count("backend", "r2", "200", delta_int([(180, 120, 3), (120, 60, 4), (60, 0, 5)])),
                request_count("backend", "r3", "200", delta_int([(120, 60, 6), (60, 0, 7)])),
                request_count("backend", "r4", "200", delta_int([(120, 60, 8), (60, 0, 9)])),
            ]
        )
    )
    flt = f'metric.type = "{REQUEST_COUNT}"'

    pages = list(list_series(twin, flt, start=300, page_size=2).pages)

    assert [sum(len(s.points) for s in page.time_series) for page in pages] == [2, 2, 2, 2, 1]
    assert [bool(page.next_page_token) for page in pages] == [True, True, True, True, False]
    revisions = [[s.resource.labels["revision_name"] for s in page.time_series] for page in pages]
    assert revisions == [["r1"], ["r2"], ["r2", "r3"], ["r3", "r4"], ["r4"]]
    values = [p.value.int64_value for page in pages for s in page.time_series for p in s.points]
    assert values == [2, 1, 5, 4, 3, 7, 6, 9, 8]

    header_pages = list(list_series(twin, flt, start=300, view="HEADERS", page_size=1).pages)
    assert [len(page.time_series) for page in header_pages] == [1, 1, 1, 1]


def test_a_foreign_page_token_is_invalid(serve: Callable[[Scenario], Twin]) -> None:
    # metric_service.proto, page_token: it "must contain the nextPageToken value returned by a previous
    # call to this method", i.e. of the same query.
    twin = serve(scenario([request_count("backend", "r1", "200", delta_int([(120, 60, 1), (60, 0, 2)]))]))
    flt = f'metric.type = "{REQUEST_COUNT}"'
    request = {
        "name": PROJECT,
        "filter": flt,
        "interval": {"start_time": at(300), "end_time": at(0)},
        "page_size": 1,
    }
    token = next(iter(twin.metrics.list_time_series(request=request).pages)).next_page_token

    with pytest.raises(exceptions.InvalidArgument):
        twin.metrics.list_time_series(
            request={**request, "filter": f'{flt} AND resource.type = "x"', "page_token": token}
        )
    with pytest.raises(exceptions.InvalidArgument):
        twin.metrics.list_time_series(request={**request, "page_token": "not-a-token"})


# ---------------------------------------------------------------------------------------------------------
# Errors, faults, refusals
# ---------------------------------------------------------------------------------------------------------

_RATE = {"alignment_period": {"seconds": 60}, "per_series_aligner": "ALIGN_RATE"}


@pytest.mark.parametrize(
    ("filter", "aggregation"),
    [
        # common.proto: ALIGN_RATE is valid for DELTA and CUMULATIVE metrics only.
        (f'metric.type = "{INSTANCE_COUNT}"', _RATE),
        # common.proto: percentile aligners are valid for distribution values only.
        (
            f'metric.type = "{INSTANCE_COUNT}"',
            {"alignment_period": {"seconds": 60}, "per_series_aligner": "ALIGN_PERCENTILE_99"},
        ),
        # common.proto: a cross-series reducer needs an aligner other than ALIGN_NONE.
        (f'metric.type = "{INSTANCE_COUNT}"', {"cross_series_reducer": "REDUCE_SUM"}),
        # common.proto: an aligner needs an alignment period of at least 60 seconds.
        (f'metric.type = "{INSTANCE_COUNT}"', {"per_series_aligner": "ALIGN_MAX"}),
        (
            f'metric.type = "{INSTANCE_COUNT}"',
            {"alignment_period": {"seconds": 30}, "per_series_aligner": "ALIGN_MAX"},
        ),
        # filters page: "When listing time series, you must specify exactly one metric type."
        ('resource.type = "cloud_run_revision"', None),
        (f'metric.type = "{INSTANCE_COUNT}" OR metric.type = "{REQUEST_COUNT}"', None),
        # filters page: comparisons for different selectors must not be intermixed.
        (
            f'metric.type = "{INSTANCE_COUNT}" AND (metric.labels.state = "idle" OR resource.labels.x = "y")',
            None,
        ),
        (f'metric.type = "{INSTANCE_COUNT}" AND metric.labels.state = ', None),
    ],
)
def test_invalid_queries_answer_invalid_argument(
    serve: Callable[[Scenario], Twin], filter: str, aggregation: dict[str, Any] | None
) -> None:
    gauge = {
        "metric": {"type": INSTANCE_COUNT, "labels": {"state": "active"}},
        "resource": {"type": "cloud_run_revision", "labels": {}},
        "metricKind": "GAUGE",
        "valueType": "INT64",
        "points": gauge_int([(30, 1)]),
    }
    twin = serve(scenario([gauge]))

    with pytest.raises(exceptions.InvalidArgument):
        list(list_series(twin, filter, start=60, aggregation=aggregation))

    assert [c.code for c in twin.calls()] == ["INVALID_ARGUMENT"]


def test_service_disabled_fault_reaches_the_client_as_google_sends_it(
    serve: Callable[[Scenario], Twin],
) -> None:
    fault = {
        "api": "monitoring",
        "method": "ListTimeSeries",
        "error": "PERMISSION_DENIED",
        "reason": "SERVICE_DISABLED",
        "times": 1,
    }
    twin = serve(scenario([request_count("backend", "r1", "200", delta_int([(60, 0, 1)]))], faults=[fault]))

    with pytest.raises(exceptions.PermissionDenied) as raised:
        list(list_series(twin, f'metric.type = "{REQUEST_COUNT}"', start=60))

    error = raised.value
    assert error.reason == "SERVICE_DISABLED"
    assert error.domain == "googleapis.com"
    assert error.metadata["service"] == "monitoring.googleapis.com"
    assert error.metadata["consumer"] == "projects/123456789012"
    assert "Cloud Monitoring API has not been used in project 123456789012" in error.message
    # `times: 1`: the next call is answered.
    assert len(list(list_series(twin, f'metric.type = "{REQUEST_COUNT}"', start=60))) == 1
    assert [(c.method, c.target, c.code) for c in twin.calls()] == [
        ("ListTimeSeries", LIST_TIME_SERIES, "PERMISSION_DENIED"),
        ("ListTimeSeries", LIST_TIME_SERIES, "OK"),
    ]


def test_permission_denied_fault_without_reason_is_an_iam_denial(serve: Callable[[Scenario], Twin]) -> None:
    twin = serve(scenario(faults=[{"api": "monitoring", "error": "PERMISSION_DENIED"}]))

    with pytest.raises(exceptions.PermissionDenied) as raised:
        list(twin.alerts.list_alert_policies(name=PROJECT))

    assert raised.value.reason == "IAM_PERMISSION_DENIED"
    assert (
        raised.value.message
        == "Permission monitoring.alertPolicies.list denied (or the resource may not exist)."
    )


def test_another_project_is_denied_and_the_project_number_is_accepted(
    serve: Callable[[Scenario], Twin],
) -> None:
    twin = serve(
        scenario(alert_policies=[{"name": "projects/acme-staging/alertPolicies/1", "displayName": "a"}])
    )

    with pytest.raises(exceptions.PermissionDenied):
        list(twin.alerts.list_alert_policies(name="projects/someone-else"))
    assert [p.display_name for p in twin.alerts.list_alert_policies(name="projects/123456789012")] == ["a"]


def test_mutating_calls_are_refused_and_logged(serve: Callable[[Scenario], Twin]) -> None:
    twin = serve(scenario())

    with pytest.raises(exceptions.PermissionDenied):
        twin.metrics.create_time_series(name=PROJECT, time_series=[monitoring_v3.TimeSeries()])
    with pytest.raises(exceptions.PermissionDenied):
        twin.metrics.delete_metric_descriptor(name=f"{PROJECT}/metricDescriptors/custom.googleapis.com/x")
    with pytest.raises(exceptions.PermissionDenied) as raised:
        twin.alerts.create_alert_policy(
            name=PROJECT, alert_policy=monitoring_v3.AlertPolicy(display_name="x")
        )

    assert raised.value.reason == "IAM_PERMISSION_DENIED"
    assert twin.calls() == [
        LoggedCall(
            "monitoring",
            "CreateTimeSeries",
            "grpc",
            "/google.monitoring.v3.MetricService/CreateTimeSeries",
            True,
            "PERMISSION_DENIED",
        ),
        LoggedCall(
            "monitoring",
            "DeleteMetricDescriptor",
            "grpc",
            "/google.monitoring.v3.MetricService/DeleteMetricDescriptor",
            True,
            "PERMISSION_DENIED",
        ),
        LoggedCall(
            "monitoring",
            "CreateAlertPolicy",
            "grpc",
            "/google.monitoring.v3.AlertPolicyService/CreateAlertPolicy",
            True,
            "PERMISSION_DENIED",
        ),
    ]


def test_other_reads_are_unimplemented_and_logged(serve: Callable[[Scenario], Twin]) -> None:
    twin = serve(scenario())

    with pytest.raises(exceptions.MethodNotImplemented):
        list(twin.metrics.list_metric_descriptors(name=PROJECT))

    assert [(c.method, c.mutating, c.code) for c in twin.calls()] == [
        ("ListMetricDescriptors", False, "UNIMPLEMENTED")
    ]


def test_fault_delays_do_not_serialise_concurrent_calls(serve: Callable[[Scenario], Twin]) -> None:
    twin = serve(scenario(faults=[{"api": "monitoring", "method": "ListAlertPolicies", "delayMs": 400}]))
    threads = [
        threading.Thread(target=lambda: list(twin.alerts.list_alert_policies(name=PROJECT))) for _ in range(8)
    ]

    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert time.monotonic() - began < 8 * 0.4 / 2
    assert [c.code for c in twin.calls()] == ["OK"] * 8


# ---------------------------------------------------------------------------------------------------------
# Alert policies
# ---------------------------------------------------------------------------------------------------------


def test_alert_policies_are_filtered_ordered_and_paged(serve: Callable[[Scenario], Twin]) -> None:
    policies = [
        {
            "name": f"{PROJECT}/alertPolicies/{i}",
            "displayName": name,
            "enabled": enabled,
            "userLabels": {"team": team},
            "combiner": "OR",
        }
        for i, (name, enabled, team) in enumerate(
            [
                ("5xx rate", True, "payments"),
                ("latency", True, "payments"),
                ("connector cpu", False, "payments"),
                ("db connections", True, "payments"),
                ("auth errors", True, "identity"),
                ("backlog", True, "payments"),
            ]
        )
    ]
    twin = serve(scenario(alert_policies=policies))

    pager = twin.alerts.list_alert_policies(
        request={
            "name": PROJECT,
            "filter": 'user_labels.team = "payments" AND enabled = true',
            "order_by": "-display_name",
            "page_size": 1,
        }
    )
    pages = list(pager.pages)

    assert [[p.display_name for p in page.alert_policies] for page in pages] == [
        ["latency"],
        ["db connections"],
        ["backlog"],
        ["5xx rate"],
    ]
    assert all(page.total_size == 4 for page in pages)
    with pytest.raises(exceptions.InvalidArgument):
        list(twin.alerts.list_alert_policies(request={"name": PROJECT, "order_by": "conditions"}))
