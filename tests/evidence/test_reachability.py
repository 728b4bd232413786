"""Firewall evaluation as https://cloud.google.com/firewall/docs/firewalls describes it, worked by hand."""

from __future__ import annotations

from infradiag.evidence import ConnectorEvidence, FirewallEvidence, FirewallPortRule, SqlInstanceEvidence
from infradiag.evidence.reachability import connector_reachability, egress_decision


def rule(
    name: str, action: str, priority: int, ports: list[str] | None = None, **kw: object
) -> FirewallEvidence:
    return FirewallEvidence(
        name=name,
        network="vpc",
        direction=str(kw.pop("direction", "EGRESS")),
        priority=priority,
        action=action,
        rules=[FirewallPortRule(protocol=str(kw.pop("protocol", "tcp")), ports=ports or [])],
        **kw,  # type: ignore[arg-type]
    )


def test_no_rule_means_the_implied_allow_egress() -> None:
    assert egress_decision([], "vpc", "10.8.0.0/28", "10.20.0.3", 5432) == (True, None)


def test_a_matching_deny_blocks() -> None:
    deny = rule("deny-db", "deny", 900, destination_ranges=["10.20.0.0/16"])
    assert egress_decision([deny], "vpc", "10.8.0.0/28", "10.20.0.3", 5432) == (False, "deny-db")


def test_lower_priority_number_wins_and_deny_wins_ties() -> None:
    deny = rule("deny-all", "deny", 1000)
    allow = rule("allow-db", "allow", 900, ["5432"], destination_ranges=["10.20.0.3/32"])
    assert egress_decision([deny, allow], "vpc", "10.8.0.0/28", "10.20.0.3", 5432) == (True, "allow-db")
    tie = rule("allow-tie", "allow", 1000, ["5432"])
    assert egress_decision([tie, deny], "vpc", "10.8.0.0/28", "10.20.0.3", 5432) == (False, "deny-all")


def test_rules_that_do_not_match_are_ignored() -> None:
    other_port = rule("deny-mysql", "deny", 100, ["3306"])
    other_range = rule("deny-elsewhere", "deny", 100, destination_ranges=["192.168.0.0/16"])
    ingress = rule("deny-in", "deny", 100, direction="INGRESS")
    disabled = rule("deny-off", "deny", 100, disabled=True)
    other_network = rule("deny-other", "deny", 100).model_copy(update={"network": "other"})
    port_range = rule("deny-range", "deny", 200, ["5000-6000"])
    rules = [other_port, other_range, ingress, disabled, other_network]
    assert egress_decision(rules, "vpc", "10.8.0.0/28", "10.20.0.3", 5432) == (True, None)
    assert egress_decision([*rules, port_range], "vpc", "10.8.0.0/28", "10.20.0.3", 5432) == (
        False,
        "deny-range",
    )


def test_connectors_are_paired_with_sql_private_ips_on_their_network() -> None:
    connector = ConnectorEvidence(
        name="c",
        resource="projects/p/locations/r/connectors/c",
        region="r",
        state="READY",
        network="vpc",
        ip_cidr_range="10.8.0.0/28",
    )
    db = SqlInstanceEvidence(
        name="db",
        resource="projects/p/instances/db",
        connection_name="p:r:db",
        region="r",
        state="RUNNABLE",
        engine="POSTGRES",
        database_version="POSTGRES_15",
        tier="db-f1-micro",
        private_ip="10.20.0.3",
        private_network="vpc",
    )
    elsewhere = db.model_copy(
        update={"name": "db2", "resource": "projects/p/instances/db2", "private_network": "x"}
    )
    (path,) = connector_reachability([connector], [rule("deny-db", "deny", 900)], [db, elsewhere])
    assert (path.target, path.port, path.allowed, path.deciding_rule) == (db.resource, 5432, False, "deny-db")
