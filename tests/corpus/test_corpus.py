"""Real captured API responses (gcpdiag's test-data, see tests/corpus/README.md) replayed through the twin.

For each project file under tests/corpus/projects/: the scenario built from the dumps validates; the twin's
REST answers equal the dumps' items, page by page; the evidence infradiag collects equals, field by field,
what the raw resources say; and a triage through the CLI prints no warning and meets the project's `expect`.
The corpus is not committed here (tests/corpus/README.md says why and where to place it); without it,
these tests skip.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from infradiag.evidence import Evidence, FirewallEvidence
from infradiag.evidence.reachability import Endpoint, Traffic, decide
from infradiag.twin.expectations import unmet
from infradiag.twin.scenario import Scenario, load_scenario
from infradiag.twin.server import Twin
from tests.collect.gather import gather
from tests.conftest import ROOT, run_cli
from tests.corpus import expected
from tests.corpus.convert import Json, backend_health, collections, load_project, scenario
from tests.report.schema import assert_valid_report

HERE = Path(__file__).resolve().parent
PROJECTS = sorted((HERE / "projects").glob("*.yaml"))
CORPUS_VARIABLE = "INFRADIAG_CORPUS"
# Where the project's owner places the corpus for CI: shared/ is copied beside the clone.
SHARED_CORPUS = ROOT.parent / "shared" / "corpus" / "gcpdiag"


def corpus_root() -> Path | None:
    """The directory holding test-data/: $INFRADIAG_CORPUS, else ../shared/corpus/gcpdiag; None when
    neither holds one."""
    candidates = [Path(os.environ[CORPUS_VARIABLE])] if os.environ.get(CORPUS_VARIABLE) else []
    candidates.append(SHARED_CORPUS)
    return next((c for c in candidates if (c / "test-data").is_dir()), None)


CORPUS = corpus_root()
pytestmark = pytest.mark.skipif(
    CORPUS is None,
    reason=f"no gcpdiag corpus: set ${CORPUS_VARIABLE} to a directory holding test-data/, or place it at "
    f"{SHARED_CORPUS}/test-data (tests/corpus/README.md)",
)


class Project:
    """One corpus project: its project file, its dumps and the scenario built from them."""

    def __init__(self, path: Path, root: Path, workdir: Path) -> None:
        self.file = load_project(path)
        self.dumps = root / "test-data" / self.file["corpusProject"] / "json-dumps"
        skipped = set((self.file.get("skipFiles") or {}).keys())
        self.raw: dict[str, list[Json]] = {
            collection: [item.resource for item in items]
            for collection, items in collections(self.dumps, skipped).items()
        }
        self.health = backend_health(self.dumps, skipped)
        self.scenario_path = workdir / f"{path.stem}.yaml"
        self.scenario_path.write_text(yaml.safe_dump(scenario(self.dumps, self.file), sort_keys=False))
        self.scenario: Scenario = load_scenario(self.scenario_path)

    def items(self, collection: str) -> list[Json]:
        """The raw resources of one scenario collection, e.g. "compute.firewalls"."""
        return self.raw.get(collection, [])


@pytest.fixture(scope="module", params=PROJECTS, ids=[p.stem for p in PROJECTS])
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Project:
    assert CORPUS is not None
    return Project(request.param, CORPUS, tmp_path_factory.mktemp("corpus"))


def test_every_project_file_names_a_corpus_project() -> None:
    assert PROJECTS
    assert CORPUS is not None
    for path in PROJECTS:
        dumps = CORPUS / "test-data" / load_project(path)["corpusProject"] / "json-dumps"
        assert dumps.is_dir(), f"{path.name}: {dumps} is missing"


def test_scenario_validates(project: Project) -> None:
    result = run_cli("twin", "check", str(project.scenario_path))
    assert result.returncode == 0, result.stdout + result.stderr


# -- the REST answers are the dumps' items ---------------------------------------------------------------


def _pages(client: httpx.Client, url: str, size_param: str, token_param: str) -> Iterator[Json]:
    """Every page of a list, one item per page so pagination is exercised on every item."""
    token: str | None = None
    while True:
        params = {size_param: "1", **({token_param: token} if token else {})}
        response = client.get(url, params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        yield body
        token = body.get("nextPageToken")
        if not token:
            return


def _key(resource: Json) -> str:
    return str(resource.get("selfLink") or resource["name"])


def _by_key(resources: list[Json]) -> dict[str, Json]:
    keyed = {_key(r): r for r in resources}
    assert len(keyed) == len(resources), "two resources share a key"
    return keyed


# collection -> (URL path under the twin, page size parameter, how to read a page's items)
_LISTS: dict[str, tuple[str, str, Callable[[Json], list[Json]]]] = {
    "run.services": (
        "/v2/projects/{project}/locations/{region}/services",
        "pageSize",
        lambda b: b.get("services", []),
    ),
    "sql.instances": (
        "/sql/v1beta4/projects/{project}/instances",
        "maxResults",
        lambda b: b.get("items", []),
    ),
    "compute.firewalls": (
        "/compute/v1/projects/{project}/global/firewalls",
        "maxResults",
        lambda b: b.get("items", []),
    ),
    "compute.networks": (
        "/compute/v1/projects/{project}/global/networks",
        "maxResults",
        lambda b: b.get("items", []),
    ),
}
# Aggregated lists hold every scope: the scenario's regional resources in every region.
_AGGREGATED = {
    "compute.subnetworks": "subnetworks",
    "compute.routers": "routers",
    "compute.backendServices": "backendServices",
    "compute.healthChecks": "healthChecks",
    "compute.networkEndpointGroups": "networkEndpointGroups",
    "compute.instanceGroups": "instanceGroups",
    "compute.instances": "instances",
    "compute.forwardingRules": "forwardingRules",
}


def _served(client: httpx.Client, project: Project, collection: str) -> list[Json]:
    scenario = project.scenario
    if collection in _LISTS:
        path, size, items_of = _LISTS[collection]
        url = path.format(project=scenario.project, region=scenario.region)
        return [item for page in _pages(client, url, size, "pageToken") for item in items_of(page)]
    name = _AGGREGATED[collection]
    url = f"/compute/v1/projects/{scenario.project}/aggregated/{name}"
    return [
        item
        for page in _pages(client, url, "maxResults", "pageToken")
        for scoped in page["items"].values()
        for item in scoped.get(name, [])
    ]


def _as_served(service: Json, twin: Twin) -> Json:
    """A captured Cloud Run service as the twin serves it: the one documented difference is that a service
    with a `uri` gets the address of the twin's local endpoint in `uri` and `urls` (docs/scenario-format.md),
    so that probes reach it; every other field is the capture's."""
    assert twin.addresses is not None
    if not service.get("uri"):
        return service
    url = twin.addresses.services[expected.last(service["name"])]
    return {**service, "uri": url, "urls": [url]}


def _raw_in_scope(project: Project, collection: str) -> list[Json]:
    # Cloud Run lists one region; the others list the whole project.
    if collection == "run.services":
        prefix = f"projects/{project.scenario.project}/locations/{project.scenario.region}/"
        return [s for s in project.items(collection) if s["name"].startswith(prefix)]
    return project.items(collection)


def test_rest_lists_answer_the_captured_items(project: Project) -> None:
    with Twin(project.scenario) as twin, httpx.Client(base_url=_rest(twin), timeout=10) as client:
        for collection in (*_LISTS, *_AGGREGATED):
            raw = _raw_in_scope(project, collection)
            if collection == "run.services":
                raw = [_as_served(r, twin) for r in raw]
            served = _served(client, project, collection)
            assert len(served) == len(raw), collection
            assert _by_key(served) == _by_key(raw), collection


def test_rest_gets_and_get_health_answer_the_captured_bodies(project: Project) -> None:
    with Twin(project.scenario) as twin, httpx.Client(base_url=_rest(twin), timeout=10) as client:
        for collection in (
            "compute.firewalls",
            "compute.subnetworks",
            "compute.routers",
            "compute.backendServices",
        ):
            for resource in project.items(collection):
                response = client.get(_compute_path(resource["selfLink"]))
                assert response.status_code == 200, response.text
                assert response.json() == resource
        for service in project.items("run.services"):
            response = client.get(f"/v2/{service['name']}")
            assert response.status_code == 200, response.text
            assert response.json() == _as_served(service, twin)
        for instance in project.items("sql.instances"):
            response = client.get(
                f"/sql/v1beta4/projects/{project.scenario.project}/instances/{instance['name']}"
            )
            assert response.status_code == 200, response.text
            assert response.json() == instance
        for key, answer in project.health.items():
            service = next(b for b in project.items("compute.backendServices") if b["selfLink"].endswith(key))
            for backend in service.get("backends", []):
                url = _compute_path(service["selfLink"]) + "/getHealth"
                response = client.post(url, json={"group": backend["group"]})
                assert response.status_code == 200, response.text
                assert response.json() == {"kind": "compute#backendServiceGroupHealth", **answer}


def _rest(twin: Twin) -> str:
    assert twin.addresses is not None
    return twin.addresses.rest


def _compute_path(self_link: str) -> str:
    return "/compute/v1/" + self_link.split("/compute/v1/", 1)[1]


# -- the evidence is what the raw resources say ------------------------------------------------------------


def _compare(found: list[Any], wanted: list[Json], what: str) -> None:
    """Each wanted dict equals the evidence item of the same name, on the wanted dict's keys."""
    by_name: dict[str, list[Json]] = {}
    for item in found:
        by_name.setdefault(item.name, []).append(item.model_dump())
    assert sorted(by_name) == sorted({w["name"] for w in wanted}), what
    for want in wanted:
        candidates = by_name[want["name"]]
        projected = [{k: _project(c[k], want[k]) for k in want} for c in candidates]
        assert want in projected, f"{what} {want['name']}: raw says {want}, evidence has {projected}"


def _project(value: Any, like: Any) -> Any:
    # Evidence lists of models compare on the keys the raw side states (e.g. a backend's health only when
    # getHealth was captured).
    if isinstance(like, list) and isinstance(value, list) and like and isinstance(like[0], dict):
        return [{k: v[k] for k in w} for v, w in zip(value, like, strict=False)] + value[len(like) :]
    return value


@pytest.fixture(scope="module")
def gathered(project: Project) -> tuple[Evidence, Twin]:
    return gather(project.scenario)


def _regional(resources: list[Json], region: str) -> list[Json]:
    return [r for r in resources if expected.last(r.get("region", "")) == region]


def test_evidence_equals_the_raw_resources(project: Project, gathered: tuple[Evidence, Twin]) -> None:
    evidence, twin = gathered
    region = project.scenario.region
    _compare(
        evidence.firewalls, [expected.firewall(f) for f in project.items("compute.firewalls")], "firewall"
    )
    _compare(
        evidence.subnets,
        [expected.subnet(s) for s in _regional(project.items("compute.subnetworks"), region)],
        "subnetwork",
    )
    nats = [n for r in _regional(project.items("compute.routers"), region) for n in expected.nats(r)]
    _compare(evidence.nats, nats, "NAT gateway")
    _compare(
        evidence.sql_instances,
        [expected.sql_instance(i) for i in project.items("sql.instances")],
        "SQL instance",
    )
    _compare(
        evidence.services,
        [expected.service(_as_served(s, twin)) for s in _raw_in_scope(project, "run.services")],
        "service",
    )
    _compare(
        evidence.connectors,
        [expected.connector(c) for c in project.items("vpcaccess.connectors")],
        "connector",
    )
    _compare(
        evidence.backend_services,
        [
            expected.backend_service(b, project.health, project.items("compute.instanceGroups"))
            for b in project.items("compute.backendServices")
        ],
        "backend service",
    )
    _compare(
        evidence.health_checks,
        [expected.health_check(h) for h in project.items("compute.healthChecks")],
        "health check",
    )


# -- the triage meets what a careful engineer concludes -----------------------------------------------------


@pytest.fixture(scope="module")
def triage(project: Project) -> subprocess.CompletedProcess[str]:
    return run_cli("triage", "--scenario", str(project.scenario_path), "--format", "json", "--fail-on", "P3")


def test_triage_exits_without_a_warning(triage: subprocess.CompletedProcess[str]) -> None:
    assert "warning" not in triage.stderr.lower(), triage.stderr
    assert "Traceback" not in triage.stderr, triage.stderr
    assert triage.returncode in (0, 1, 3), triage.stderr
    assert_valid_report(json.loads(triage.stdout))


def test_triage_meets_the_engineers_expectation(
    project: Project, triage: subprocess.CompletedProcess[str], request: pytest.FixtureRequest
) -> None:
    # An expectation infradiag misses today because of a known bug: strict, so the fix turns it red and the
    # mark is removed then.
    known = project.file.get("knownFailing")
    if known:
        request.applymarker(pytest.mark.xfail(reason=str(known), strict=True))
    assert project.scenario.expect is not None
    assert unmet(project.scenario.expect, json.loads(triage.stdout)) == []


# -- firewall verdicts on the real rules -------------------------------------------------------------------


def _verdict_cases() -> list[Any]:
    """(project file, verdict) for every `firewallVerdicts` entry; xfail (strict) where the entry says
    infradiag gets it wrong today."""
    cases = []
    for path in PROJECTS:
        for index, verdict in enumerate(load_project(path).get("firewallVerdicts") or []):
            known = verdict.get("knownFailing")
            marks = [pytest.mark.xfail(reason=str(known), strict=True)] if known else []
            cases.append(pytest.param(path, verdict, id=f"{path.stem}-{index}", marks=marks))
    return cases


@functools.cache
def _collected_firewalls(path: Path) -> list[FirewallEvidence]:
    assert CORPUS is not None
    with tempfile.TemporaryDirectory() as workdir:
        found, _twin = gather(Project(path, CORPUS, Path(workdir)).scenario)
    return found.firewalls


def _endpoint(spec: Json) -> Endpoint:
    return Endpoint(
        spec["addresses"],
        frozenset(spec.get("tags", [])),
        frozenset(spec.get("serviceAccounts", [])),
    )


@pytest.mark.parametrize(("path", "verdict"), _verdict_cases())
def test_firewall_verdict_on_the_collected_rules(path: Path, verdict: Json) -> None:
    """infradiag's evaluation of the collected rules reaches the engineer's verdict: allowed or not, and by
    which rule (none: an implied rule)."""
    traffic = verdict["traffic"]
    decision = decide(
        _collected_firewalls(path),
        Traffic(
            network=traffic["network"],
            direction=traffic["direction"],
            instance=_endpoint(traffic["instance"]),
            peer=_endpoint(traffic["peer"]),
            port=traffic["port"],
            protocol=traffic["protocol"],
        ),
    )
    assert decision == (verdict["allowed"], verdict.get("rule")), verdict["because"]
