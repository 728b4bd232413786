"""What the evidence says about every connector-to-Cloud SQL path and every health-check probe once derived
(reachability.connector_reachability, undetermined_unknowns, with_derived): which paths exist, who decides
each, and that a path or probe infradiag cannot decide is undetermined and reported as an Unknown, never
called reachable."""

from __future__ import annotations

from typing import Any

import pytest

from infradiag.collect.firewall_policies import FIREWALL_POLICIES
from infradiag.evidence import (
    Evidence,
    FirewallPolicyEvidence,
    FirewallPolicyRuleEvidence,
    FirewallPortRule,
    NetworkPoliciesEvidence,
    ReachabilityEvidence,
    Unknown,
)
from infradiag.evidence.reachability import connector_reachability, undetermined_unknowns, with_derived
from tests.evidence.network import CONNECTOR, CONNECTOR_ON_SUBNET, CONNECTOR_SUBNET, DB_IP, sql
from tests.evidence.network import egress_to_db as egress
from tests.evidence.test_lb_probes import HC_ALLOW, check, service


def prule(priority: int, action: str, direction: str = "EGRESS", **fields: Any) -> FirewallPolicyRuleEvidence:
    ranges = "dest_ip_ranges" if direction == "EGRESS" else "src_ip_ranges"
    fields.setdefault(ranges, ["0.0.0.0/0"])
    return FirewallPolicyRuleEvidence(
        priority=priority,
        action=action,
        direction=direction,
        layer4_configs=[FirewallPortRule(protocol="all")],
        **fields,
    )


def on_vpc(
    *policies: FirewallPolicyEvidence, order: str = "AFTER_CLASSIC_FIREWALL"
) -> NetworkPoliciesEvidence:
    return NetworkPoliciesEvidence(network="vpc", enforcement_order=order, policies=list(policies))


def network_policy(*rules: FirewallPolicyRuleEvidence) -> FirewallPolicyEvidence:
    return FirewallPolicyEvidence(name="net-policy", type="NETWORK", rules=list(rules))


# The Unknown the collector reports, with its fix, when getEffectiveFirewalls is refused.
POLICIES_REFUSED = Unknown(
    source="compute",
    reason="PERMISSION_DENIED",
    fix="grant roles/compute.networkViewer",
    consequence=FIREWALL_POLICIES.consequence,
)
# An Unknown about something else: it says nothing about the firewall policies.
UNRELATED = Unknown(
    source="sql", reason="PERMISSION_DENIED", fix="grant roles/cloudsql.viewer", consequence="no SQL"
)
UNREAD_POLICIES = "the firewall policies in effect on network vpc could not be read"
MANUAL_CHECK = (
    "check by hand whether this rule matches the connector's traffic (gcloud compute networks "
    "get-effective-firewalls NETWORK), or run a Connectivity Test from the connector's range to the target"
)
GRANT = (
    "grant roles/compute.networkViewer (compute.networks.getEffectiveFirewalls) to the identity running "
    "infradiag"
)
CONSEQUENCE = (
    "whether connector conn reaches db at 10.20.0.3:5432 is undetermined (vpc_connector.firewall_blocked)"
)


# --- Which paths exist ----------------------------------------------------------------------------------


def test_every_sql_private_ip_on_the_connectors_network_is_a_path_whatever_the_order() -> None:
    elsewhere, no_ip, db = sql("elsewhere", "other"), sql("no-ip", private_ip=None), sql("db")
    no_network = CONNECTOR.model_copy(update={"name": "lost", "network": None, "ip_cidr_range": None})
    paths = connector_reachability([no_network, CONNECTOR], [], [elsewhere, no_ip, db])
    assert [(p.connector, p.target, p.address, p.allowed) for p in paths] == [
        (CONNECTOR.resource, db.resource, DB_IP, True)
    ]


def test_unread_vpc_rules_leave_every_path_undetermined_never_allowed_by_the_implied_egress() -> None:
    paths = connector_reachability([CONNECTOR], None, [sql("db"), sql("db2")])
    assert paths == [
        ReachabilityEvidence(
            connector=CONNECTOR.resource,
            target=f"projects/p/instances/{name}",
            address=DB_IP,
            port=5432,
            allowed=None,
            undetermined="the VPC firewall rules could not be read",
        )
        for name in ("db", "db2")
    ]


def test_a_connector_whose_subnet_was_not_read_has_an_undetermined_path_with_its_address() -> None:
    on_subnet = CONNECTOR.model_copy(update={"ip_cidr_range": None, "subnet": "shared-subnet"})
    [path] = connector_reachability([on_subnet], [], [sql("db")], [on_vpc()], [])
    assert (path.allowed, path.address, path.port, path.target) == (
        None,
        DB_IP,
        5432,
        "projects/p/instances/db",
    )
    assert "shared-subnet" in (path.undetermined or "")


# --- Who decides: VPC rules alone (policies not collected) ------------------------------------------------


def test_without_policies_a_vpc_allow_outranking_a_deny_decides_and_is_named_as_the_vpc_layer() -> None:
    firewalls = [egress("deny-sql", "deny", 1000), egress("allow-sql", "allow", 900)]
    [path] = connector_reachability([CONNECTOR], firewalls, [sql()])
    assert (path.allowed, path.deciding_rule, path.deciding_layer, path.deciding_text) == (
        True,
        "allow-sql",
        "vpc",
        "allow-sql",
    )
    assert path.allows_not_applying == []


def test_without_policies_and_no_applicable_rule_the_implied_egress_allow_decides() -> None:
    [path] = connector_reachability([CONNECTOR], [], [sql()])
    assert (path.allowed, path.deciding_rule, path.deciding_layer, path.deciding_text) == (
        True,
        None,
        "implied",
        None,
    )


# --- Who decides: firewall policies -------------------------------------------------------------------


def test_a_regional_network_policy_deny_is_named_with_its_type_region_and_rule() -> None:
    regional = FirewallPolicyEvidence(
        name="reg-policy", type="NETWORK_REGIONAL", region="us-central1", rules=[prule(5, "deny")]
    )
    [path] = connector_reachability([CONNECTOR], [], [sql()], [on_vpc(regional)])
    assert path.allowed is False
    assert (
        path.deciding_layer,
        path.deciding_policy,
        path.deciding_policy_id,
        path.deciding_policy_type,
        path.deciding_policy_region,
        path.deciding_policy_priority,
        path.deciding_text,
        path.deciding_rule,
    ) == (
        "regional",
        "reg-policy",
        "reg-policy",
        "NETWORK_REGIONAL",
        "us-central1",
        5,
        "policy reg-policy rule 5",
        None,
    )


@pytest.mark.parametrize(
    "rule",
    [
        prule(10, "deny", target_secure_tags=["tagValues/7"]),
        prule(10, "deny", target_service_accounts=["a@p.iam.gserviceaccount.com"]),
    ],
    ids=["secure-tags", "service-accounts"],
)
def test_a_policy_rule_on_secure_tags_or_service_accounts_cannot_be_told_to_select_a_connector(
    rule: FirewallPolicyRuleEvidence,
) -> None:
    # Google documents no secure tag or service account for connector instances: such a rule that otherwise
    # matches makes the path undetermined, neither blocked by the deny nor allowed by the VPC allow.
    policies = [on_vpc(network_policy(rule), order="BEFORE_CLASSIC_FIREWALL")]
    [path] = connector_reachability([CONNECTOR], [egress("allow-sql", "allow")], [sql()], policies)
    assert path.allowed is None
    assert "rule 10 of firewall policy net-policy may apply" in (path.undetermined or "")
    assert (path.deciding_policy, path.deciding_policy_priority) == ("net-policy", 10)


# --- One Unknown per undetermined path -------------------------------------------------------------------


def _path(allowed: bool | None, undetermined: str | None = None) -> ReachabilityEvidence:
    return ReachabilityEvidence(
        connector=CONNECTOR.resource,
        target="projects/p/instances/db",
        address=DB_IP,
        port=5432,
        allowed=allowed,
        undetermined=undetermined,
    )


def test_an_undetermined_path_after_decided_ones_is_an_unknown_that_says_how_to_check_it() -> None:
    why = "rule 10 of firewall policy net-policy may apply: it matches on destFqdns"
    paths = [_path(True), _path(False), _path(None, why)]
    assert undetermined_unknowns(paths, []) == [
        Unknown(
            source="compute", reason="UNDETERMINED", fix=MANUAL_CHECK, consequence=CONSEQUENCE, detail=why
        )
    ]


def test_unread_vpc_rules_add_no_unknown_of_their_own() -> None:
    # The refused read of the VPC rules is already an Unknown that says what to grant.
    assert undetermined_unknowns([_path(None, "the VPC firewall rules could not be read")], []) == []


def test_unread_policies_are_an_unknown_with_the_role_to_grant_unless_their_read_was_reported() -> None:
    unread = _path(None, UNREAD_POLICIES)
    expected = Unknown(
        source="compute", reason="UNDETERMINED", fix=GRANT, consequence=CONSEQUENCE, detail=UNREAD_POLICIES
    )
    assert undetermined_unknowns([unread], []) == [expected]
    assert undetermined_unknowns([unread], [UNRELATED]) == [expected]
    assert undetermined_unknowns([unread], [UNRELATED, POLICIES_REFUSED]) == []


def test_a_reported_policies_read_hides_only_the_paths_it_explains() -> None:
    why = "rule 10 of firewall policy net-policy may apply: it matches on destFqdns"
    paths = [_path(None, UNREAD_POLICIES), _path(None, why)]
    [unknown] = undetermined_unknowns(paths, [POLICIES_REFUSED])
    assert (unknown.detail, unknown.fix) == (why, MANUAL_CHECK)


# --- with_derived: the evidence a triage sees ------------------------------------------------------------


def evidence(**fields: Any) -> Evidence:
    return Evidence.model_validate(
        {"project": "p", "region": "us-central1", "now": "2026-09-15T23:06:52Z", **fields}
    )


def test_collected_evidence_with_the_vpc_rules_read_is_decided_by_them() -> None:
    derived = with_derived(
        evidence(
            connectors=[CONNECTOR],
            sql_instances=[sql()],
            firewalls=[egress("deny-sql", "deny")],
            checked=["firewalls", "sql"],
        )
    )
    assert [(p.allowed, p.deciding_rule) for p in derived.reachability] == [(False, "deny-sql")]
    assert derived.unknowns == []


def test_collected_evidence_without_the_vpc_rules_read_leaves_paths_and_probes_undetermined() -> None:
    # checked names the reads that answered: "firewalls" is missing, so the empty list means "unread".
    derived = with_derived(
        evidence(
            connectors=[CONNECTOR],
            sql_instances=[sql()],
            backend_services=[service()],
            health_checks=[check(port_specification="USE_SERVING_PORT")],
            checked=["sql", "subnets"],
            unknowns=[UNRELATED],
        )
    )
    [path] = derived.reachability
    [wall] = derived.backend_services[0].probe_firewall
    assert (path.allowed, path.undetermined) == (None, "the VPC firewall rules could not be read")
    assert (wall.allowed, wall.undetermined) == (None, "the VPC firewall rules could not be read")
    assert derived.unknowns == [UNRELATED]  # the refused read's own Unknown is the report


def test_a_connector_on_a_subnet_is_evaluated_from_the_evidences_subnets() -> None:
    derived = with_derived(
        evidence(connectors=[CONNECTOR_ON_SUBNET], sql_instances=[sql()], subnets=[CONNECTOR_SUBNET])
    )
    assert [(p.allowed, p.connector_range) for p in derived.reachability] == [(True, "10.9.0.0/28")]


def test_the_policies_in_effect_decide_connector_paths_and_probes() -> None:
    connector_deny = prule(10, "deny")
    probe_deny = prule(20, "deny", "INGRESS", src_ip_ranges=["35.191.0.0/16"])
    policies = [
        on_vpc(
            FirewallPolicyEvidence(
                name="org", short_name="org-policy", type="HIERARCHY", rules=[connector_deny, probe_deny]
            )
        )
    ]
    derived = with_derived(
        evidence(
            connectors=[CONNECTOR],
            sql_instances=[sql()],
            firewalls=[HC_ALLOW],
            backend_services=[service()],
            health_checks=[check(port_specification="USE_SERVING_PORT")],
            firewall_policies=[p.model_dump() for p in policies],
        )
    )
    assert [(p.allowed, p.deciding_text) for p in derived.reachability] == [
        (False, "policy org-policy rule 10")
    ]
    [wall] = derived.backend_services[0].probe_firewall
    assert (wall.allowed, wall.deciding_rule) == (False, "policy org-policy rule 20")
    assert derived.unknowns == []


PROBES_UNKNOWN_FIX = (
    "check by hand whether this firewall policy rule matches the probes (gcloud compute networks "
    "get-effective-firewalls NETWORK)"
)


def _probes(policies: list[NetworkPoliciesEvidence] | None, unknowns: list[Unknown]) -> Evidence:
    return with_derived(
        evidence(
            firewalls=[HC_ALLOW],
            backend_services=[service()],
            health_checks=[check(port_specification="USE_SERVING_PORT")],
            firewall_policies=None if policies is None else [p.model_dump() for p in policies],
            unknowns=unknowns,
        )
    )


def test_probes_a_vpc_rule_admits_add_no_unknown() -> None:
    derived = _probes(None, [])
    [wall] = derived.backend_services[0].probe_firewall
    assert (wall.allowed, wall.deciding_rule) == (True, "allow-hc")
    assert derived.unknowns == []


def test_probes_a_secure_tag_rule_may_block_are_an_unknown_even_when_a_policies_read_failed_elsewhere() -> (
    None
):
    tagged = network_policy(prule(10, "deny", "INGRESS", target_secure_tags=["tagValues/9"]))
    derived = _probes([on_vpc(tagged, order="BEFORE_CLASSIC_FIREWALL")], [POLICIES_REFUSED])
    [wall] = derived.backend_services[0].probe_firewall
    assert wall.allowed is None
    assert derived.unknowns == [
        POLICIES_REFUSED,
        Unknown(
            source="compute",
            reason="UNDETERMINED",
            fix=PROBES_UNKNOWN_FIX,
            consequence="whether health-check probes reach instance group api-ig of api is undetermined "
            "(lb.backend_unhealthy)",
            detail=wall.undetermined or "",
        ),
    ]
    assert "secure tags" in (wall.undetermined or "")


def test_probes_behind_unread_policies_are_an_unknown_unless_that_read_was_reported() -> None:
    # firewall_policies read for no network: the read for vpc failed.
    reported = _probes([], [UNRELATED, POLICIES_REFUSED])
    [wall] = reported.backend_services[0].probe_firewall
    assert (wall.allowed, wall.undetermined) == (None, UNREAD_POLICIES)
    assert reported.unknowns == [UNRELATED, POLICIES_REFUSED]
    unreported = _probes([], [UNRELATED])
    assert [(u.reason, u.detail) for u in unreported.unknowns] == [
        ("PERMISSION_DENIED", ""),
        ("UNDETERMINED", UNREAD_POLICIES),
    ]
