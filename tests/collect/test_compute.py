"""Compute networking and load balancing resources, parsed by compute_v1 from REST JSON, as evidence."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.cloud import compute_v1

from infradiag.collect.compute import firewall_evidence, nat_evidence, subnet_evidence
from infradiag.collect.loadbalancing import (
    HealthQuery,
    backend_service_evidence,
    health_check_evidence,
    health_queries,
    link_key,
    with_health,
    with_serverless_negs,
)
from tests.collect.fleet import COMPUTE, REGION, compute


def _parse(kind: Any, data: dict[str, Any]) -> Any:
    return kind.from_json(json.dumps(data), ignore_unknown_fields=True)


def test_firewall_defaults_priority_and_reads_allow_and_deny() -> None:
    allow, deny = (_parse(compute_v1.Firewall, f) for f in compute()["firewalls"])
    allowed = firewall_evidence(allow)
    assert (allowed.network, allowed.direction, allowed.priority, allowed.action) == (
        "staging-vpc",
        "EGRESS",
        1000,
        "allow",
    )
    assert [(r.protocol, r.ports) for r in allowed.rules] == [("tcp", ["5432"])]
    denied = firewall_evidence(deny)
    assert (denied.action, denied.priority, denied.disabled) == ("deny", 65000, True)
    assert [(r.protocol, r.ports) for r in denied.rules] == [("all", [])]


def test_firewall_reads_targets_and_sources_as_the_api_returns_them() -> None:
    egress = {
        "name": "allow-bar",
        "network": f"{COMPUTE}/global/networks/staging-vpc",
        "priority": 45,
        "direction": "EGRESS",
        "allowed": [{"IPProtocol": "tcp", "ports": ["5432", "6000-6100"]}, {"IPProtocol": "17"}],
        "destinationRanges": ["10.20.0.0/16"],
        "sourceRanges": ["10.8.0.0/28"],
        "targetTags": ["bar"],
    }
    ingress = {
        "name": "allow-from-app",
        "network": f"{COMPUTE}/global/networks/staging-vpc",
        "direction": "INGRESS",
        "denied": [{"IPProtocol": "all"}],
        "sourceServiceAccounts": ["app@p.iam.gserviceaccount.com"],
        "targetServiceAccounts": ["db@p.iam.gserviceaccount.com"],
        "disabled": True,
    }
    tagged = {"name": "from-connectors", "sourceTags": ["vpc-connector"], "allowed": [{"IPProtocol": "tcp"}]}
    out, into, by_tag = (firewall_evidence(_parse(compute_v1.Firewall, f)) for f in (egress, ingress, tagged))
    assert (out.network, out.direction, out.priority, out.action, out.disabled) == (
        "staging-vpc",
        "EGRESS",
        45,
        "allow",
        False,
    )
    assert [(r.protocol, r.ports) for r in out.rules] == [("tcp", ["5432", "6000-6100"]), ("17", [])]
    assert (out.destination_ranges, out.source_ranges, out.target_tags) == (
        ["10.20.0.0/16"],
        ["10.8.0.0/28"],
        ["bar"],
    )
    assert (out.target_service_accounts, out.source_tags, out.source_service_accounts) == ([], [], [])
    assert (into.action, into.priority, into.disabled) == ("deny", 1000, True)
    assert into.target_service_accounts == ["db@p.iam.gserviceaccount.com"]
    assert into.source_service_accounts == ["app@p.iam.gserviceaccount.com"]
    assert (by_tag.direction, by_tag.source_tags, by_tag.target_tags) == ("INGRESS", ["vpc-connector"], [])


def test_firewall_without_direction_is_ingress() -> None:
    rule = firewall_evidence(_parse(compute_v1.Firewall, {"name": "r", "allowed": [{"IPProtocol": "TCP"}]}))
    assert (rule.direction, rule.network, rule.rules[0].protocol) == ("INGRESS", "default", "tcp")


@pytest.mark.parametrize(
    ("cidr", "prefix", "usable"),
    [("10.0.0.0/28", 28, 12), ("10.0.0.0/26", 26, 60), ("10.1.0.0/20", 20, 4092)],
)
def test_subnet_usable_addresses_leave_out_googles_four(cidr: str, prefix: int, usable: int) -> None:
    subnet = subnet_evidence(
        _parse(
            compute_v1.Subnetwork,
            {"name": "s", "network": "n", "region": f"regions/{REGION}", "ipCidrRange": cidr},
        )
    )
    assert (subnet.prefix_length, subnet.usable_addresses, subnet.region) == (prefix, usable, REGION)


@pytest.mark.parametrize(
    ("mode", "all_subnets"),
    [
        ("ALL_SUBNETWORKS_ALL_IP_RANGES", True),
        ("ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES", True),
        ("LIST_OF_SUBNETWORKS", False),
    ],
)
def test_nat_covers_all_subnets_or_the_listed_ones(mode: str, all_subnets: bool) -> None:
    router = compute()["routers"][0]
    router["nats"][0]["sourceSubnetworkIpRangesToNat"] = mode
    (nat,) = nat_evidence(_parse(compute_v1.Router, router))
    assert (nat.name, nat.router, nat.network, nat.region) == (
        "staging-nat",
        "staging-router",
        "staging-vpc",
        REGION,
    )
    assert nat.all_subnets is all_subnets
    assert nat.subnets == ["run-direct"]
    assert nat.dropped_out_of_resources is None and nat.allocation_failed is None


def test_backend_service_defaults_and_serverless_negs() -> None:
    web, legacy = (
        backend_service_evidence(_parse(compute_v1.BackendService, b)) for b in compute()["backendServices"]
    )
    assert (web.timeout_sec, web.region, web.health_checks, web.outlier_detection) == (
        30,
        None,
        ["web-hc"],
        False,
    )
    assert (legacy.timeout_sec, legacy.region, legacy.outlier_detection) == (10, REGION, True)
    assert [b.kind for b in web.backends] == ["neg"]  # until the NEG list says it is serverless
    neg_url = web.backends[0].group
    marked = with_serverless_negs([web, legacy], {link_key(neg_url): "svc-0"})
    assert [(b.kind, b.cloud_run_service) for b in marked[0].backends] == [("serverless_neg", "svc-0")]
    assert [b.kind for b in marked[1].backends] == ["instance_group"]
    # getHealth is asked only of non-serverless backends; NEGs only once the NEG list answered.
    assert health_queries(marked, negs_known=True) == [
        HealthQuery("legacy-backend", REGION, legacy.backends[0].group)
    ]
    assert health_queries([web], negs_known=False) == []
    assert health_queries([web], negs_known=True) == [HealthQuery("web-backend", None, neg_url)]
    joined = with_health(marked, {HealthQuery("legacy-backend", REGION, legacy.backends[0].group): (3, 1)})
    assert (joined[1].backends[0].healthy, joined[1].backends[0].unhealthy) == (3, 1)
    assert joined[0].backends[0].healthy is None


def test_link_key_matches_full_and_partial_urls() -> None:
    full = f"{COMPUTE}/regions/{REGION}/networkEndpointGroups/neg"
    assert link_key(full) == link_key(full.removeprefix("https://www.googleapis.com/compute/v1/"))


def test_health_checks_by_type() -> None:
    (http,) = compute()["healthChecks"]
    evidence = health_check_evidence(_parse(compute_v1.HealthCheck, http))
    assert (evidence.type, evidence.port, evidence.request_path) == ("HTTP", 8080, "/healthz")
    default_path = health_check_evidence(
        _parse(compute_v1.HealthCheck, {"name": "h", "type": "HTTPS", "httpsHealthCheck": {"port": 443}})
    )
    assert (default_path.port, default_path.request_path) == (443, "/")
    tcp = health_check_evidence(
        _parse(compute_v1.HealthCheck, {"name": "t", "type": "TCP", "tcpHealthCheck": {"port": 5432}})
    )
    assert (tcp.port, tcp.request_path) == (5432, None)
