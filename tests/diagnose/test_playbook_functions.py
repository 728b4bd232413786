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


HIERARCHICAL = {
    "deciding_policy": "org-deny",
    "deciding_policy_type": "HIERARCHY",
    "deciding_policy_id": "8562",
}
NETWORK = {
    "deciding_policy": "vpc-policy",
    "deciding_policy_type": "NETWORK_REGIONAL",
    "deciding_policy_id": "77",
}


@pytest.mark.parametrize(
    ("verdict", "text"),
    [
        (
            HIERARCHICAL,  # a hierarchical policy is named by its id
            "delete rule 899 from firewall policy 8562 (gcloud compute firewall-policies rules delete)",
        ),
        (
            NETWORK,
            "delete rule 899 from firewall policy vpc-policy"
            " (gcloud compute network-firewall-policies rules delete)",
        ),
        (
            {"deciding_rule": "deny-egress"},  # a VPC rule, or the implied deny: the fix is a VPC rule
            "delete the rule: gcloud compute firewall-rules delete allow-conn-to-db --project acme",
        ),
    ],
)
def test_firewall_allow_way_back_deletes_the_rule_the_fix_adds(verdict: dict[str, str], text: str) -> None:
    template = PLAYBOOK_CEL.compile_template("{firewall_allow_way_back(v, 899, 'allow-conn-to-db', 'acme')}")
    assert template.render({"v": verdict}) == text


@pytest.mark.parametrize(
    ("ingress", "text"),
    [
        ("INGRESS_TRAFFIC_INTERNAL_ONLY", "set --ingress internal again"),
        ("INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", "set --ingress internal-and-cloud-load-balancing again"),
        (
            "INGRESS_TRAFFIC_NONE",
            "set ingress back to INGRESS_TRAFFIC_NONE in the service (gcloud --ingress has no value for it)",
        ),
    ],
)
def test_ingress_way_back_names_the_gcloud_value_where_there_is_one(ingress: str, text: str) -> None:
    assert (
        PLAYBOOK_CEL.compile_template("{ingress_way_back(s.ingress)}").render({"s": {"ingress": ingress}})
        == text
    )
