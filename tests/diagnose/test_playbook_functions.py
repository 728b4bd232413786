"""The text-building helpers playbooks call (diagnose/playbook_functions.py)."""

from __future__ import annotations

import pytest

from infradiag.diagnose.playbook_functions import PLAYBOOK_CEL, connector_capacity

CONNECTOR = {"cpu_p95": 0.971, "max_instances": 3}


@pytest.mark.parametrize(
    ("cpu_high", "at_max", "throughput_high", "text"),
    [
        (True, False, False, "CPU p95 97.1 %"),
        (False, True, False, "all 3 instances (maxInstances) in use"),
        (False, False, True, "throughput at its ceiling"),
        (True, True, False, "CPU p95 97.1 %, all 3 instances (maxInstances) in use"),
        (False, True, True, "all 3 instances (maxInstances) in use, throughput at its ceiling"),
        (True, False, True, "CPU p95 97.1 %, throughput at its ceiling"),
        (
            True,
            True,
            True,
            "CPU p95 97.1 %, all 3 instances (maxInstances) in use, throughput at its ceiling",
        ),
        (False, False, False, ""),
    ],
)
def test_connector_capacity_lists_what_is_exhausted(
    cpu_high: bool, at_max: bool, throughput_high: bool, text: str
) -> None:
    assert connector_capacity(CONNECTOR, cpu_high, at_max, throughput_high) == text


def test_connector_capacity_reads_only_what_it_reports() -> None:
    # A connector without CPU data is still described by its instances.
    assert connector_capacity({"max_instances": 10}, False, True, False) == (
        "all 10 instances (maxInstances) in use"
    )


def test_playbooks_call_connector_capacity_from_cel() -> None:
    expression = PLAYBOOK_CEL.compile_template("{connector_capacity(c, true, true, false)};")
    assert expression.render({"c": CONNECTOR}) == "CPU p95 97.1 %, all 3 instances (maxInstances) in use;"


def test_alert_metrics_per_cause() -> None:
    from infradiag.evidence.metrics import CONNECTOR_CPU, CONNECTOR_INSTANCES

    template = PLAYBOOK_CEL.compile_template("{join(alert_metrics(c), ' or ')}|{size(alert_metrics('x.y'))}")
    assert template.render({"c": "vpc_connector.saturated"}) == f"{CONNECTOR_CPU} or {CONNECTOR_INSTANCES}|0"


def test_alert_metrics_are_the_collectors_but_one() -> None:
    # Only the SQL instance state is alerted on without infradiag reading it.
    from infradiag.collect.signals import SIGNALS
    from infradiag.evidence.metrics import ALERT_METRICS, SQL_INSTANCE_STATE

    alerted = {metric for metrics in ALERT_METRICS.values() for metric in metrics}
    assert alerted - {s.metric_type for s in SIGNALS} == {SQL_INSTANCE_STATE}


@pytest.mark.parametrize(
    ("policies", "text"),
    [
        ([], "0 alert policies: none"),
        ([{"display_name": "cpu", "enabled": True}], "1 alert policy: cpu"),
        (
            [{"display_name": "cpu", "enabled": True}, {"display_name": "mem", "enabled": False}],
            "2 alert policies: cpu, mem (disabled)",
        ),
    ],
)
def test_alert_policy_summary_names_each_policy(policies: list[dict[str, object]], text: str) -> None:
    template = PLAYBOOK_CEL.compile_template("{alert_policy_summary(p)}")
    assert template.render({"p": policies}) == text
