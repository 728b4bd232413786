"""The registry of reads: each read declared once and complete, served by the twin at its declared route, and
what is derived from it (collector, unknowns, Terraform roles, README table) in step with it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import grpc
import pytest

from infradiag.collect import registry, signals
from infradiag.collect.api import Read
from infradiag.collect.calls import unknown_from_error
from infradiag.evidence import Evidence
from infradiag.twin.faults import FaultInjector
from infradiag.twin.monitoring import start_monitoring_server
from infradiag.twin.requestlog import RequestLog
from infradiag.twin.rest import RestApis
from infradiag.twin.scenario import Scenario
from tests.conftest import ROOT

PROJECT = "routes-project"
EMPTY = Scenario.model_validate(
    {
        "apiVersion": "infradiag/twin-v1",
        "name": "routes",
        "project": PROJECT,
        "region": "us-central1",
        "now": "2026-09-15T23:06:52Z",
    }
)
REST_READS = [read for read in registry.READS if read.route.method != "gRPC"]
GRPC_READS = [read for read in registry.READS if read.route.method == "gRPC"]


def test_each_read_is_declared_once_with_what_it_costs_and_fills() -> None:
    names = [read.name for read in registry.READS]
    assert len(names) == len(set(names))
    for read in registry.READS:
        assert read.field in Evidence.model_fields, f"{read.name}: no Evidence field {read.field!r}"
        assert len(read.consequence) > 20, f"{read.name}: say what is lost without it"
    assert {"connectors", "revisions", "firewalls", "subnets", "sql_instances", "alerting"} <= {
        read.name for read, _fetch in registry.INDEPENDENT
    }
    # The collector stores each independent read's value under its field: no two may share one.
    fields = [read.field for read, _fetch in registry.INDEPENDENT]
    assert len(fields) == len(set(fields))


def test_every_signal_has_a_family_read() -> None:
    for signal in signals.SIGNALS:
        read = registry.read_named(signal.name)
        assert read.api.name == "monitoring"
        assert signal.name.startswith(read.name)
    with pytest.raises(KeyError):
        registry.read_named("no_such_read")


def test_a_refused_read_names_the_role_and_service_the_registry_declares() -> None:
    from google.api_core import exceptions as gexc

    for api in registry.APIS:
        denied = unknown_from_error(api.name, "c", "p", gexc.Forbidden("denied"))
        assert api.role in denied.fix
        disabled = unknown_from_error(
            api.name, "c", "p", gexc.Forbidden("off", errors=[{"reason": "accessNotConfigured"}])
        )
        assert f"gcloud services enable {api.service}" in disabled.fix


def _path(read: Read) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: PROJECT if m.group(1) == "project" else "x", read.route.path)


@pytest.mark.parametrize("read", REST_READS, ids=[read.name for read in REST_READS])
def test_the_twin_serves_every_rest_read_at_its_declared_route(read: Read) -> None:
    apis = RestApis(EMPTY, {}, RequestLog(), FaultInjector([]))
    found, _match = apis.route(read.route.method, _path(read))
    assert found is not None and found.handler is not None, f"the twin has no route for {read.route}"
    assert found.api == read.api.name
    status, body = asyncio.run(apis.answer(read.route.method, _path(read), {}))
    # A list answers (empty); a get of a resource the empty scenario lacks is NOT_FOUND; never unimplemented.
    assert status in (200, 404), (status, body)


@pytest.mark.parametrize("read", GRPC_READS, ids=[read.name for read in GRPC_READS])
def test_the_twin_serves_every_grpc_read_at_its_declared_method(read: Read) -> None:
    server = start_monitoring_server(EMPTY, RequestLog(), FaultInjector([]))
    try:
        with grpc.insecure_channel(server.address) as channel:
            call = channel.unary_unary(read.route.path)
            try:
                call(b"", timeout=10)
            except grpc.RpcError as error:
                # An empty request may be refused as invalid, but the method is there and answers.
                assert error.code() not in (grpc.StatusCode.UNIMPLEMENTED, grpc.StatusCode.PERMISSION_DENIED)
    finally:
        server.stop()


def test_the_generated_role_lists_are_up_to_date() -> None:
    assert registry.stale(ROOT) == [], f"the role lists are stale: run `{registry.COMMAND}`"


def test_a_stale_role_list_is_found_and_rewritten(tmp_path: Path) -> None:
    for block in registry.generated():
        copy = tmp_path / block.path
        copy.parent.mkdir(parents=True, exist_ok=True)
        copy.write_text((ROOT / block.path).read_text(encoding="utf-8"), encoding="utf-8")
    readme = tmp_path / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8").replace("`roles/cloudsql.viewer`", "`x`"), "utf-8")
    assert registry.main(["--check", "--root", str(tmp_path)]) == 1
    assert registry.write(tmp_path) == ["README.md"]
    assert registry.stale(tmp_path) == []
    readme.write_text("no markers", encoding="utf-8")
    assert registry.main(["--check", "--root", str(tmp_path)]) == 2
