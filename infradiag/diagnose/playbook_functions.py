"""The CEL dialect playbooks are written in: CEL's standard functions, the formatting helpers of
infradiag.cel, and the named helpers below that build the text of a finding (tested one by one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from infradiag.cel import Dialect, to_text
from infradiag.cel.text import percent
from infradiag.diagnose.runfixes import revision_fix
from infradiag.evidence.metrics import alert_metrics
from infradiag.fixes.alerts import alert_policy
from infradiag.fixes.names import resource_part
from infradiag.fixes.ranges import free_connector_range
from infradiag.fixes.render import RUN_INGRESS_FLAGS
from infradiag.fixes.sizing import (
    connector_ceiling_mbps,
    connector_sizing,
    max_connections_sizing,
    run_max_instances_sizing,
    sql_cpu_sizing,
)


def connector_capacity(connector: Any, cpu_high: Any, at_max: Any, throughput_high: Any) -> str:
    """What a VPC connector has run out of, comma-separated in the order CPU, instances, throughput, e.g.
    "CPU p95 97.1 %, all 3 instances (maxInstances) in use"; empty when none of the three holds."""
    exhausted = []
    if cpu_high:
        exhausted.append("CPU p95 " + percent(connector["cpu_p95"]))
    if at_max:
        exhausted.append(f"all {to_text(connector['max_instances'])} instances (maxInstances) in use")
    if throughput_high:
        exhausted.append("throughput at its ceiling")
    return ", ".join(exhausted)


def alert_policy_summary(policies: Any) -> str:
    """How many alert policies there are and their names, disabled ones marked: "2 alert policies: cpu,
    mem (disabled)", "1 alert policy: cpu", "0 alert policies: none"."""
    names = [policy["display_name"] + ("" if policy["enabled"] else " (disabled)") for policy in policies]
    noun = "policy" if len(names) == 1 else "policies"
    return f"{len(names)} alert {noun}: {', '.join(names) if names else 'none'}"


def firewall_allow_way_back(verdict: Any, priority: Any, rule_name: Any, project: Any) -> str:
    """How to take back the allow rule a firewall fix adds ahead of the rule that denies in `verdict` (a
    reachability path or a health-check probe verdict): delete rule `priority` from the deciding hierarchical
    firewall policy (named by its id) or network firewall policy, else delete the VPC firewall rule
    `rule_name` of `project`."""
    if "deciding_policy" not in verdict:
        return f"delete the rule: gcloud compute firewall-rules delete {rule_name} --project {project}"
    if verdict["deciding_policy_type"] == "HIERARCHY":
        policy, command = verdict["deciding_policy_id"], "firewall-policies"
    else:
        policy, command = verdict["deciding_policy"], "network-firewall-policies"
    rule = f"rule {to_text(priority)} from firewall policy {policy}"
    return f"delete {rule} (gcloud compute {command} rules delete)"


def ingress_way_back(ingress: Any) -> str:
    """How to set a Cloud Run service's ingress back to `ingress` (the v2 API's value) once a fix changed it:
    with the gcloud --ingress value that names it, else in the service itself (gcloud has none for it)."""
    flag = RUN_INGRESS_FLAGS.get(str(ingress))
    if flag is None:
        return f"set ingress back to {ingress} in the service (gcloud --ingress has no value for it)"
    return f"set --ingress {flag} again"


PLAYBOOK_FUNCTIONS: dict[str, Callable[..., Any]] = {
    # The specific fix for a revision that did not become ready, from its condition message (runfixes.py).
    "revision_fix": revision_fix,
    "connector_capacity": connector_capacity,
    # The metric types an alert on a cause would watch (evidence/metrics.py, shared with the collector).
    "alert_metrics": alert_metrics,
    "alert_policy_summary": alert_policy_summary,
    # How to undo a fix: the allow rule a firewall fix adds, the ingress a Cloud Run fix widens.
    "firewall_allow_way_back": firewall_allow_way_back,
    "ingress_way_back": ingress_way_back,
    # The alert policy that would have paged for a finding, per signal (fixes/alerts.py).
    "alert_policy": alert_policy,
    # Proposed values sized from the evidence (fixes/sizing.py).
    "connector_ceiling_mbps": connector_ceiling_mbps,
    "connector_sizing": connector_sizing,
    "max_connections_sizing": max_connections_sizing,
    "sql_cpu_sizing": sql_cpu_sizing,
    "run_max_instances_sizing": run_max_instances_sizing,
    # A part of a full resource name: the project a KMS key lives in (fixes/names.py).
    "resource_part": resource_part,
    # A /28 for a new connector that no subnet or connector holds (fixes/ranges.py).
    "free_connector_range": free_connector_range,
}
PLAYBOOK_CEL = Dialect(PLAYBOOK_FUNCTIONS)
