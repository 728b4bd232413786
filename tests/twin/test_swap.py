"""Twin.swap: a running twin serves another scenario on the same ports (REST, Monitoring, endpoints)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import grpc
import httpx
import pytest
from google.cloud import monitoring_v3
from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport

from infradiag.twin.scenario import EndpointBehaviour, load_scenario
from infradiag.twin.server import Twin
from tests.conftest import SCENARIOS

INCIDENT = SCENARIOS / "staging-vpc-connector-saturation.yaml"
HEALTHY = SCENARIOS / "staging-healthy.yaml"
SERVICES = "/v2/projects/acme-staging/locations/us-central1/services"


@pytest.fixture
def twin() -> Iterator[Twin]:
    with Twin(load_scenario(INCIDENT)) as running:
        yield running


def connector_cpu_mean(twin: Twin) -> float:
    """The newest connector CPU mean, read with the official Monitoring client over the twin's gRPC port."""
    assert twin.addresses is not None
    channel = grpc.insecure_channel(twin.addresses.grpc)
    client = monitoring_v3.MetricServiceClient(transport=MetricServiceGrpcTransport(channel=channel))
    now = twin.scenario.now
    interval = monitoring_v3.TimeInterval(start_time=now - timedelta(minutes=2), end_time=now)
    series = list(
        client.list_time_series(
            name="projects/acme-staging",
            filter='metric.type = "vpcaccess.googleapis.com/connector/cpu/utilizations"',
            interval=interval,
            view=monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL,
        )
    )
    channel.close()
    newest = max((p for s in series for p in s.points), key=lambda p: p.interval.end_time)
    return float(newest.value.distribution_value.mean)


def test_swap_serves_the_new_scenario_on_the_same_ports(twin: Twin) -> None:
    before = twin.addresses
    assert before is not None
    backend = before.services["backend"] + "/health"
    assert httpx.get(backend).status_code == 503
    assert connector_cpu_mean(twin) > 0.9

    twin.swap(load_scenario(HEALTHY))

    assert twin.addresses == before
    assert httpx.get(backend).status_code == 200
    listed = httpx.get(before.rest + SERVICES).json()["services"]
    assert {s["uri"] for s in listed} == set(before.services.values())
    assert connector_cpu_mean(twin) < 0.5


def test_swap_refuses_what_the_ports_cannot_follow(twin: Twin) -> None:
    other = load_scenario(HEALTHY)
    fewer = other.model_copy(
        update={"run": other.run.model_copy(update={"services": other.run.services[:2]})}
    )
    with pytest.raises(ValueError, match="same project, region and services"):
        twin.swap(fewer)
    refused = other.model_copy(
        update={"endpoints": {**other.endpoints, "backend": {"*": EndpointBehaviour(fault="refuse")}}}
    )
    with pytest.raises(ValueError, match="connection-level fault"):
        twin.swap(refused)
