"""Which port a health check probes on an instance-group backend, and whether the firewall admits Google's
probes there (infradiag/evidence/lbprobes.py), as the HealthCheck REST reference and
https://cloud.google.com/load-balancing/docs/health-check-concepts document them."""

from __future__ import annotations

from typing import Any

import pytest

from infradiag.evidence import (
    BackendEvidence,
    BackendServiceEvidence,
    FirewallEvidence,
    FirewallPortRule,
    HealthCheckEvidence,
)
from infradiag.evidence.lbprobes import with_probes
from infradiag.evidence.loadbalancing import BackendInstanceEvidence

COMPUTE = "https://www.googleapis.com/compute/v1/projects/acme-staging"
GROUP = f"{COMPUTE}/zones/us-central1-a/instanceGroups/api-ig"
CHECK = f"{COMPUTE}/global/healthChecks/api-hc"


def vm(name: str, tags: list[str]) -> BackendInstanceEvidence:
    return BackendInstanceEvidence(
        name=name,
        resource=f"{COMPUTE}/zones/us-central1-a/instances/{name}",
        network="vpc",
        address="10.0.0.5",
        tags=tags,
        service_accounts=["vm@acme-staging.iam.gserviceaccount.com"],
    )


def service(
    named_ports: dict[str, list[int]] | None = None,
    *,
    port_name: str | None = "http",
    unhealthy: int = 2,
    vms: list[BackendInstanceEvidence] | None = None,
    **fields: Any,
) -> BackendServiceEvidence:
    backend = BackendEvidence(
        group=GROUP,
        kind="instance_group",
        healthy=0,
        unhealthy=unhealthy,
        named_ports={"http": [8080]} if named_ports is None else named_ports,
        instances=vms if vms is not None else [vm("api-1", ["api"]), vm("api-2", ["api"])],
        tag_reach={"api": 2},
    )
    return BackendServiceEvidence(
        name="api",
        resource=f"{COMPUTE}/global/backendServices/api",
        port_name=port_name,
        health_checks=["api-hc"],
        health_check_links=[CHECK],
        backends=[backend],
        **fields,
    )


def check(**fields: Any) -> HealthCheckEvidence:
    return HealthCheckEvidence(name="api-hc", resource=CHECK, **{"type": "HTTP", **fields})


def rule(
    name: str, priority: int, action: str = "allow", ports: list[str] | None = None, **fields: Any
) -> Any:
    return FirewallEvidence(
        name=name,
        network="vpc",
        direction="INGRESS",
        priority=priority,
        action=action,
        rules=[FirewallPortRule(protocol="tcp" if action == "allow" else "all", ports=ports or [])],
        **fields,
    )


HC_ALLOW = rule("allow-hc", 1000, ports=["8080"], source_ranges=["35.191.0.0/16", "130.211.0.0/22"])


@pytest.mark.parametrize(
    ("fields", "spec", "probed", "problem"),
    [
        ({"port": 80, "port_specification": "USE_FIXED_PORT"}, "USE_FIXED_PORT", 80, "fixed_port"),
        ({"port": 8080, "port_specification": "USE_FIXED_PORT"}, "USE_FIXED_PORT", 8080, None),
        ({"port": 80}, "USE_FIXED_PORT", 80, "fixed_port"),  # unset: port decides
        ({}, "USE_FIXED_PORT", 80, "fixed_port"),  # unset, no port: HTTP's default 80
        ({"port_specification": "USE_SERVING_PORT"}, "USE_SERVING_PORT", 8080, None),
        ({"port_specification": "USE_NAMED_PORT", "port_name": "http"}, "USE_NAMED_PORT", 8080, None),
        (
            {"port_specification": "USE_NAMED_PORT", "port_name": "admin"},
            "USE_NAMED_PORT",
            None,
            "named_port_missing",
        ),
        ({"port_name": "http"}, "USE_NAMED_PORT", 8080, None),  # unset, portName only
    ],
)
def test_the_probed_port_is_judged_against_the_serving_port(
    fields: dict[str, Any], spec: str, probed: int | None, problem: str | None
) -> None:
    (derived,) = with_probes([service()], [check(**fields)], [HC_ALLOW])
    (port,) = derived.probe_ports
    assert (port.specification, port.probed_port, port.serving_port, port.problem) == (
        spec,
        probed,
        8080,
        problem,
    )


def test_a_serving_port_the_group_lacks_is_a_missing_named_port_to_add() -> None:
    (derived,) = with_probes([service({"web": [8080]})], [check(port_specification="USE_SERVING_PORT")], [])
    (port,) = derived.probe_ports
    assert (port.problem, port.fix, port.port_name, port.group_named_ports) == (
        "named_port_missing",
        "add_named_port",
        "http",
        "web:8080",
    )
    assert derived.probe_firewall == []  # no port, nothing to evaluate


def test_a_name_mapped_to_several_ports_serves_on_each_and_the_probes_must_reach_each() -> None:
    group_ports = {"http": [8080, 8443]}
    (fine,) = with_probes([service(group_ports)], [check(port=8443)], [HC_ALLOW])
    assert (fine.probe_ports[0].problem, fine.probe_ports[0].serving_ports) == (None, [8080, 8443])
    (derived,) = with_probes(
        [service(group_ports)], [check(port_specification="USE_SERVING_PORT")], [HC_ALLOW]
    )
    (port,) = derived.probe_ports
    assert port.probed_ports == [8080, 8443]
    (wall,) = derived.probe_firewall
    # HC_ALLOW opens 8080 only: the probes to 8443 meet the implied deny.
    assert (wall.allowed, wall.port, wall.deciding_rule, wall.fix_rules) == (False, 8443, None, "tcp:8443")


def test_without_the_groups_named_ports_nothing_is_judged() -> None:
    backend = service().backends[0].model_copy(update={"named_ports": None})
    (derived,) = with_probes(
        [service().model_copy(update={"backends": [backend]})], [check(port=80)], [HC_ALLOW]
    )
    assert derived.probe_ports == [] and derived.probe_firewall == []


def test_an_allow_for_the_probe_ranges_admits_the_probes() -> None:
    (derived,) = with_probes([service()], [check(port_specification="USE_SERVING_PORT")], [HC_ALLOW])
    (wall,) = derived.probe_firewall
    assert (wall.allowed, wall.deciding_rule, wall.port) == (True, "allow-hc", 8080)
    assert wall.probe_url == "http://10.0.0.5:8080/"  # requestPath unset: "/"
    assert wall.ranges == ["35.191.0.0/16", "130.211.0.0/22"]


def test_a_higher_priority_deny_blocks_and_the_fix_outranks_it_on_the_instances_tag() -> None:
    deny = rule("deny-all", 900, "deny", source_ranges=["0.0.0.0/0"])
    (derived,) = with_probes([service()], [check(port_specification="USE_SERVING_PORT")], [HC_ALLOW, deny])
    (wall,) = derived.probe_firewall
    assert (wall.allowed, wall.deciding_rule, wall.deciding_priority) == (False, "deny-all", 900)
    assert (wall.blocked_range, wall.blocked_instances) == ("35.191.0.0/16", ["api-1", "api-2"])
    assert (wall.fix_priority, wall.fix_target, wall.fix_rule_name) == (
        899,
        "--target-tags api",
        "api-allow-health-checks",
    )


def test_only_one_probe_range_admitted_is_still_blocked() -> None:
    partial = rule("allow-hc", 1000, ports=["8080"], source_ranges=["35.191.0.0/16"])
    (derived,) = with_probes([service()], [check(port_specification="USE_SERVING_PORT")], [partial])
    (wall,) = derived.probe_firewall
    assert (wall.allowed, wall.deciding_rule, wall.blocked_range) == (False, None, "130.211.0.0/22")
    assert wall.fix_priority == 1000  # only the implied deny to outrank


def test_an_allow_targeting_other_tags_leaves_the_instances_to_the_implied_deny() -> None:
    other = HC_ALLOW.model_copy(update={"target_tags": ["web"]})
    (derived,) = with_probes([service()], [check(port_specification="USE_SERVING_PORT")], [other])
    assert [(w.allowed, w.deciding_rule) for w in derived.probe_firewall] == [(False, None)]


def test_the_fix_targets_the_common_tag_fewest_instances_carry() -> None:
    vms = [vm("api-1", ["http-server", "api"]), vm("api-2", ["api", "http-server"])]
    base = service(vms=vms)
    backend = base.backends[0].model_copy(update={"tag_reach": {"api": 2, "http-server": 40}})
    (derived,) = with_probes([base.model_copy(update={"backends": [backend]})], [check(port=8080)], [])
    (wall,) = derived.probe_firewall
    assert (wall.target_tags, wall.fix_target) == (["api"], "--target-tags api")


def test_untagged_instances_are_targeted_by_service_account() -> None:
    (derived,) = with_probes([service(vms=[vm("api-1", [])])], [check(port=8080)], [])
    (wall,) = derived.probe_firewall
    assert wall.fix_target == "--target-service-accounts vm@acme-staging.iam.gserviceaccount.com"


def test_passthrough_network_load_balancers_are_probed_from_their_own_ranges() -> None:
    nlb = service(region="us-central1", load_balancing_scheme="EXTERNAL", port_name=None)
    (derived,) = with_probes([nlb], [check(type="TCP", port=8080)], [HC_ALLOW])
    (wall,) = derived.probe_firewall
    assert wall.ranges == ["35.191.0.0/16", "209.85.152.0/22", "209.85.204.0/22"]
    assert (wall.allowed, wall.blocked_range) == (False, "209.85.152.0/22")


def test_healthy_backends_are_not_evaluated() -> None:
    (derived,) = with_probes([service(unhealthy=0)], [check(port=8080)], [])
    assert len(derived.probe_ports) == 1 and derived.probe_firewall == []


def test_unread_vpc_rules_leave_the_probes_undetermined_not_blocked() -> None:
    """No rule list read is not an empty one: the implied deny-all ingress would call every probe blocked."""
    (derived,) = with_probes([service()], [check(port_specification="USE_SERVING_PORT")], None)
    (wall,) = derived.probe_firewall
    assert (wall.allowed, wall.undetermined) == (None, "the VPC firewall rules could not be read")
