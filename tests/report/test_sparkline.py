"""A cited metric drawn over the window its playbook read, with its threshold marked: built from the
evidence's series into the report, and shown by the terminal and Markdown views."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from rich.console import Console

from infradiag.diagnose.findings import Citation, Fix, Why
from infradiag.evidence import Evidence, MetricSeries
from infradiag.evidence.metrics import CONNECTOR_CPU, CONNECTOR_SENT_BYTES
from infradiag.plan import make_plan
from infradiag.report.build import build_report
from infradiag.report.markdown import render_markdown
from infradiag.report.model import ReportSeries, TriageReport
from infradiag.report.sparkline import BARS, sparkline
from infradiag.report.terminal import render
from tests.report.reports import diagnosed

NOW = datetime(2026, 9, 15, 23, 6, 52, tzinfo=UTC)
CONNECTOR = "projects/p/locations/r/connectors/c"
RISING = [0.40, 0.45, 0.52, 0.60, 0.71, 0.80, 0.88, 0.93, 0.97, 0.99]


def _series(points: list[float], threshold: float | None = 0.9) -> ReportSeries:
    return ReportSeries(
        metric=CONNECTOR_CPU,
        aggregation="p95 per minute",
        start=NOW - timedelta(minutes=len(points)),
        end=NOW,
        period_seconds=60,
        points=points,
        threshold=threshold,
    )


def test_a_rising_series_climbs_and_marks_the_points_over_the_threshold() -> None:
    drawn = sparkline(_series(RISING))
    assert drawn is not None
    assert len(drawn.bars) == len(RISING)
    assert [BARS.index(b) for b in drawn.bars] == sorted(BARS.index(b) for b in drawn.bars)
    assert drawn.bars[0] != drawn.bars[-1] == BARS[-1]
    assert drawn.over == tuple(v >= 0.9 for v in RISING)
    assert drawn.caption == "p95 per minute: 0.40 -> 0.99; 3/10 at or over 0.90"


def test_a_long_series_is_summarised_by_the_largest_point_of_each_slice() -> None:
    points = [0.1] * 90
    points[45] = 0.95  # one spike must survive the summary
    drawn = sparkline(_series(points))
    assert drawn is not None
    assert len(drawn.bars) == 30
    assert drawn.bars.count(BARS[-1]) == 1
    assert drawn.caption.endswith("1/90 at or over 0.90")


def test_points_that_are_not_numbers_are_left_out_not_a_crash() -> None:
    drawn = sparkline(_series([0.5, float("nan"), 0.95, float("inf")]))
    assert drawn is not None
    assert len(drawn.bars) == 2 and drawn.caption == "p95 per minute: 0.50 -> 0.95; 1/2 at or over 0.90"
    assert sparkline(_series([float("nan")])) is None


def test_no_points_no_line_and_no_threshold_no_mark() -> None:
    assert sparkline(_series([])) is None
    drawn = sparkline(_series([1.0, 2.0], threshold=None))
    assert drawn is not None
    assert drawn.over == (False, False)
    assert drawn.caption == "p95 per minute: 1 -> 2"  # whole numbers (an instance count) without decimals


def _read(metric: str, aggregation: str, points: list[float], limit: float | None = None) -> MetricSeries:
    """The series of `metric` on connector c as monitoring gives it: one point a minute up to NOW."""
    return MetricSeries(
        metric=metric,
        resource=CONNECTOR,
        aggregation=aggregation,
        start=NOW - timedelta(minutes=len(points)),
        end=NOW,
        period_s=60,
        points=points,
        limit=limit,
    )


def _out_of_capacity(why: Why, read: list[MetricSeries], thresholds: dict[str, float]) -> TriageReport:
    """The report of connector c out of capacity for service `a` for the reason `why` gives, with the series
    monitoring answered (`read`) judged against the environment's `thresholds`."""
    fix = Fix(summary="Raise the capacity of c")
    finding = diagnosed(
        "vpc_connector.saturated", "P0", "VPC connector c is out of capacity", CONNECTOR, ["a"], why, fix
    )
    evidence = Evidence(project="p", region="r", now=NOW, metric_series=read)
    return build_report("e", evidence, [finding], make_plan([finding]), "down", NOW, 1, thresholds=thresholds)


def _saturated() -> TriageReport:
    why = Why(
        question="Why would connector c fail them?",
        answer="It is out of capacity",
        evidence=[
            Citation(source="monitoring", detail=f"{CONNECTOR_CPU} p95 0.99 over 10 min"),
            Citation(source="vpcaccess", detail=f"c: state READY ({CONNECTOR_CPU} is not read here)"),
        ],
    )
    series = _read(CONNECTOR_CPU, "p95 per minute", RISING)
    other = series.model_copy(update={"resource": "projects/p/locations/r/connectors/other", "points": [0.1]})
    return _out_of_capacity(why, [other, series], {"connector_cpu_saturated": 0.9})


def test_the_report_carries_the_series_of_the_metric_a_monitoring_line_cites() -> None:
    report = _saturated()
    cited, read_elsewhere = report.findings[0].why[0].evidence
    assert cited.series is not None
    assert cited.series.points == RISING  # the finding's connector, not the other one
    assert cited.series.threshold == 0.9
    assert cited.series.period_seconds == 60
    assert read_elsewhere.series is None  # only monitoring lines carry a series
    assert report.to_json_dict()["findings"][0]["why"][0]["evidence"][0]["series"]["periodSeconds"] == 60


def test_terminal_and_markdown_draw_it_under_the_line() -> None:
    report = _saturated()
    drawn = sparkline(_series(RISING))
    assert drawn is not None
    out = io.StringIO()
    render(report, Console(file=out, width=100, color_system=None))
    assert f"{drawn.bars}  {drawn.caption}" in out.getvalue()
    assert f"`{drawn.bars}` p95 per minute: 0.40 -> 0.99; 3/10 at or over 0.90" in render_markdown(report)
    coloured = io.StringIO()
    render(report, Console(file=coloured, width=100, color_system="standard", force_terminal=True))
    assert "\x1b[1;31m" + drawn.bars[-3:] in coloured.getvalue()  # the points over the threshold in red


def test_a_series_with_a_limit_of_its_own_is_judged_against_the_environments_share_of_it() -> None:
    citation = Citation(
        source="monitoring",
        detail=f"{CONNECTOR_SENT_BYTES} + received_bytes_count peak 290 Mbps of a 300 Mbps ceiling",
    )
    why = Why(question="Why?", answer="throughput", evidence=[citation])
    # A limit of 300 Mbps: the connector's documented ceiling.
    series = _read(CONNECTOR_SENT_BYTES, "sent + received Mbps per minute", [100.0, 200.0, 290.0], 300.0)
    report = _out_of_capacity(why, [series], {"connector_throughput_saturated": 0.9})
    drawn = report.findings[0].why[0].evidence[0].series
    assert drawn is not None
    assert drawn.threshold == 270.0  # 90 % of 300 Mbps
    shown = sparkline(drawn)
    assert shown is not None
    assert shown.caption == "sent + received Mbps per minute: 100 -> 290; 1/3 at or over 270"
