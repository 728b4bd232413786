"""The load balancer reads, through the twin and the official clients: regional backend services and health
checks, getHealth on the method of the backend service's scope, and the instance groups and instances a
judgement needs (namedPorts; tags, service accounts and nic0), read only when it needs them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import yaml

from infradiag.evidence import Evidence
from infradiag.twin.scenario import Scenario
from infradiag.twin.server import Twin
from tests.collect.gather import gather
from tests.conftest import SCENARIOS


def scenario_data(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((SCENARIOS / f"{name}.yaml").read_text())
    return data


def gathered(data: dict[str, Any]) -> tuple[Evidence, Counter[str]]:
    evidence, twin = gather(Scenario.model_validate(data))
    return evidence, compute_calls(twin)


def compute_calls(twin: Twin) -> Counter[str]:
    return Counter(c.method for c in twin.log.calls() if c.api == "compute")


def test_regional_backend_service_is_read_and_asked_for_health_on_the_regional_method() -> None:
    evidence, calls = gathered(scenario_data("cause-lb-regional-probes-blocked"))
    (service,) = [s for s in evidence.backend_services if s.name == "internal-api"]
    assert (service.region, service.load_balancing_scheme, service.port_name) == (
        "us-central1",
        "INTERNAL_MANAGED",
        "http",
    )
    assert calls["regionBackendServices.getHealth"] == 1
    assert calls["backendServices.getHealth"] == 0
    (check,) = [c for c in evidence.health_checks if c.name == "internal-api-hc"]
    assert (check.region, check.port_specification, check.port) == ("us-central1", "USE_SERVING_PORT", None)
    (backend,) = service.backends
    assert (backend.healthy, backend.unhealthy) == (0, 2)


def test_unhealthy_instance_group_backend_gets_named_ports_and_instances_in_one_call_each() -> None:
    evidence, calls = gathered(scenario_data("cause-lb-probes-blocked-implied-deny"))
    assert calls["instanceGroups.aggregatedList"] == 1
    assert calls["instances.aggregatedList"] == 1
    assert not [m for m in calls if m.endswith(".listInstances") or m == "instances.get"]
    (service,) = [s for s in evidence.backend_services if s.name == "legacy-api"]
    (backend,) = service.backends
    assert backend.named_ports == {"http": [9000]}
    # Only the instances getHealth names for the group; static-web-1 is another VM of the project.
    assert [(vm.name, vm.network, vm.address, sorted(vm.tags)) for vm in backend.instances] == [
        ("legacy-api-1", "staging-vpc", "10.0.0.11", ["http-server", "legacy-api"]),
        ("legacy-api-2", "staging-vpc", "10.0.0.12", ["http-server", "legacy-api"]),
    ]
    assert backend.instances[0].service_accounts == ["123456789012-compute@developer.gserviceaccount.com"]
    # http-server is carried by three VMs of the project, legacy-api by two.
    assert backend.tag_reach == {"legacy-api": 2, "http-server": 3}


def test_healthy_backends_need_no_instance_read_and_backends_without_health_checks_no_group_read() -> None:
    data = scenario_data("cause-lb-probes-blocked-implied-deny")
    for status in next(iter(data["compute"]["backendServiceHealth"].values()))["healthStatus"]:
        status["healthState"] = "HEALTHY"
    evidence, calls = gathered(data)
    assert calls["instanceGroups.aggregatedList"] == 1  # the health check's port is still judged
    assert calls["instances.aggregatedList"] == 0
    (service,) = [s for s in evidence.backend_services if s.name == "legacy-api"]
    assert service.probe_firewall == []

    for service_data in data["compute"]["backendServices"]:
        service_data.pop("healthChecks", None)
    _evidence, calls = gathered(data)
    assert calls["instanceGroups.aggregatedList"] == 0
    assert calls["instances.aggregatedList"] == 0


def test_a_named_port_mapped_to_several_ports_keeps_each() -> None:
    # Real groups do this (gcpdiag's captured lb2 project: http:8080 and http:8443 on one group).
    data = scenario_data("cause-lb-probes-blocked-implied-deny")
    (group,) = data["compute"]["instanceGroups"]
    group["namedPorts"] = [{"name": "http", "port": 9000}, {"name": "http", "port": 9443}]
    evidence, _calls = gathered(data)
    (service,) = [s for s in evidence.backend_services if s.name == "legacy-api"]
    assert service.backends[0].named_ports == {"http": [9000, 9443]}
    (wall,) = service.probe_firewall
    assert wall.fix_rules == "tcp:9000,tcp:9443"
