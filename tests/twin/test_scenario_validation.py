"""Malformed scenarios: exit 2 with file:line and what to write instead (docs/scenario-format.md; issue 3
item 7).

The kinds the issue lists (unknown keys, bad enums, bad timestamps, missing required fields) go through
`infradiag twin serve` as a user runs it; further cases call load_scenario in-process.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from infradiag.errors import UsageError
from infradiag.twin.scenario import load_scenario
from tests.conftest import SCENARIOS, run_cli

HEAD = """\
apiVersion: infradiag/twin-v1
name: bad
project: acme-staging
region: us-central1
now: 2026-09-15T23:06:52Z
"""
SERVICE = "projects/acme-staging/locations/us-central1/services/backend"
CONNECTOR = "projects/acme-staging/locations/us-central1/connectors/conn"


def series(metric_kind: str = "GAUGE", value_type: str = "INT64", end: str = "2026-09-15T23:06:00Z") -> str:
    return f"""\
monitoring:
  timeSeries:
  - metric: {{type: run.googleapis.com/container/instance_count}}
    resource: {{type: cloud_run_revision}}
    metricKind: {metric_kind}
    valueType: {value_type}
    points:
    - interval: {{endTime: "{end}"}}
      value: {{int64Value: "3"}}
"""


def write(tmp_path: Path, body: str, head: str = HEAD) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(head + textwrap.dedent(body))
    return path


# (YAML after the head, line of the problem, a word the message must hold, a word the fix must hold)
CLI_CASES = {
    "unknown top-level key": ("servics: []\n", 6, "servics", "spelling"),
    "bad connector state": (
        f"vpcaccess:\n  connectors:\n  - name: {CONNECTOR}\n    state: BROKEN\n",
        9,
        "BROKEN",
        "READY",
    ),
    "bad service ingress": (
        f"run:\n  services:\n  - name: {SERVICE}\n    ingress: INGRESS_ALL\n",
        9,
        "IngressTraffic",
        "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER",
    ),
    "bad metricKind": (series(metric_kind="GAGE"), 10, "GAGE", "CUMULATIVE"),
    "bad valueType": (series(value_type="INTEGER"), 11, "INTEGER", "DISTRIBUTION"),
    "bad endpoint fault": (
        f"run:\n  services:\n  - name: {SERVICE}\n"
        'endpoints:\n  backend:\n    "/health": {fault: explode}\n',
        11,
        "fault",
        "tls-untrusted",
    ),
    "expiresInDays without tls-expiring": (
        f"run:\n  services:\n  - name: {SERVICE}\n"
        'endpoints:\n  backend:\n    "/health": {fault: tls-expired, expiresInDays: 5}\n',
        11,
        "without fault: tls-expiring",
        "remove `expiresInDays`",
    ),
    "expiresInDays that is not ahead": (
        f"run:\n  services:\n  - name: {SERVICE}\n"
        'endpoints:\n  backend:\n    "/health": {fault: tls-expiring, expiresInDays: 0}\n',
        11,
        "expiresInDays",
        "greater than 0",
    ),
    "bad now": ("", 5, "now", "RFC 3339"),
    "bad point timestamp": (series(end="2026-09-15 23:06"), 13, "RFC 3339", "2026-09-15T23:06:52Z"),
    "service without name": (
        "run:\n  services:\n  - ingress: INGRESS_TRAFFIC_ALL\n",
        8,
        "name",
        "services/NAME",
    ),
    "connector without name": ("vpcaccess:\n  connectors:\n  - state: READY\n", 8, "name", "connectors/NAME"),
    "two firewalls with one name": (
        "compute:\n  firewalls:\n  - name: deny-all\n  - name: deny-all\n",
        9,
        "twice",
        "rename",
    ),
    "time series without metric.type": (
        "monitoring:\n  timeSeries:\n  - resource: {type: cloud_run_revision}\n    metricKind: GAUGE\n",
        8,
        "metric.type",
        "run.googleapis.com/request_count",
    ),
}


@pytest.mark.parametrize("case", list(CLI_CASES))
def test_twin_serve_rejects_each_kind_of_mistake_with_file_and_line(tmp_path: Path, case: str) -> None:
    body, line, problem_word, fix_word = CLI_CASES[case]
    head = HEAD.replace("now: 2026-09-15T23:06:52Z", "now: 2026-09-15 23:06") if case == "bad now" else HEAD
    path = write(tmp_path, body, head)
    result = run_cli("twin", "serve", str(path), timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    message = result.stderr.strip()
    assert message.count("\n") == 0 and "Traceback" not in message
    assert message.startswith(f"infradiag: {path}:{line}: "), message
    problem, _, fix = message.partition("(fix: ")
    assert problem_word in problem
    assert fix_word in fix


def test_triage_with_a_bad_scenario_also_exits_2(tmp_path: Path) -> None:
    path = write(tmp_path, f"vpcaccess:\n  connectors:\n  - name: {CONNECTOR}\n    state: BROKEN\n")
    result = run_cli("triage", "--scenario", str(path), timeout=60)
    assert result.returncode == 2
    assert f"{path}:9" in result.stderr


def problem_of(tmp_path: Path, body: str) -> UsageError:
    with pytest.raises(UsageError) as caught:
        load_scenario(write(tmp_path, body))
    return caught.value


IN_PROCESS_CASES = {
    "compute string enum": (
        "compute:\n  firewalls:\n  - name: fw\n    direction: INBOUND\n",
        9,
        "Direction",
        "EGRESS",
    ),
    "proto field name instead of JSON name": (
        f"vpcaccess:\n  connectors:\n  - name: {CONNECTOR}\n    max_instances: 5\n",
        9,
        "max_instances",
        "maxInstances",
    ),
    "regional compute resource without region": (
        "compute:\n  subnetworks:\n  - name: sub\n",
        8,
        "regional",
        "region",
    ),
    "selfLink of another collection": (
        "compute:\n  networks:\n  - name: n\n    selfLink: https://www.googleapis.com/compute/v1/projects/acme-staging/global/firewalls/n\n",
        9,
        "selfLink",
        "networks/NAME",
    ),
    "label values are strings": (
        "monitoring:\n  timeSeries:\n  - metric: {type: m, labels: {response_code: 500}}\n",
        8,
        "string",
        "quote",
    ),
    "gauge point with an interval": (
        series().replace(
            'endTime: "2026-09-15T23:06:00Z"',
            'startTime: "2026-09-15T23:05:00Z", endTime: "2026-09-15T23:06:00Z"',
        ),
        13,
        "GAUGE",
        "startTime",
    ),
    "value field not matching valueType": (series(value_type="DOUBLE"), 14, "doubleValue", "doubleValue"),
    "point after now": (series(end="2026-09-15T23:10:00Z"), 13, "now", "before"),
    "duration without unit": (
        f"run:\n  services:\n  - name: {SERVICE}\n    template: {{timeout: 300}}\n",
        9,
        "duration",
        '"300s"',
    ),
    "alternatives set together": (
        series().replace('value: {int64Value: "3"}', 'value: {int64Value: "3", doubleValue: 3.0}'),
        14,
        "alternatives",
        "only one",
    ),
    "unknown fault method": (
        "apiFaults:\n- {api: run, method: ListService, error: UNAVAILABLE}\n",
        7,
        "ListService",
        "ListServices",
    ),
    "fault that does nothing": (
        "apiFaults:\n- {api: compute, method: networks.list}\n",
        7,
        "nothing",
        "delayMs",
    ),
    "endpoints of an unknown service": (
        'endpoints:\n  ghost:\n    "*": {status: 500}\n',
        7,
        "ghost",
        "run.services",
    ),
    # Nothing serves a service without a uri (Cloud Run sets it once a revision serves), so endpoints for
    # one would never be reached.
    "endpoints of a service without uri": (
        f'run:\n  services:\n  - name: {SERVICE}\nendpoints:\n  backend:\n    "*": {{status: 500}}\n',
        10,
        "no uri",
        "give the service a uri",
    ),
    # A collection never holds two resources with one name (https://google.aip.dev/122).
    "two services with one name": (
        f"run:\n  services:\n  - name: {SERVICE}\n  - name: {SERVICE}\n",
        9,
        "twice",
        "rename",
    ),
    "two firewalls with one name": (
        "compute:\n  firewalls:\n  - name: allow-internal\n  - name: allow-internal\n",
        9,
        "twice",
        "rename",
    ),
    "two connectors with one name": (
        f"vpcaccess:\n  connectors:\n  - name: {CONNECTOR}\n  - name: {CONNECTOR}\n",
        9,
        "twice",
        "rename",
    ),
    "job named by its short name": (
        "run:\n  jobs:\n  - name: nightly-export\n",
        8,
        "full resource name",
        "projects/acme-staging/locations/REGION/jobs/NAME",
    ),
    "job checked against the v2 Job message": (
        "run:\n  jobs:\n  - name: projects/acme-staging/locations/us-central1/jobs/j\n"
        "    latestCreatedExecution: {completionStatus: FAILED}\n",
        9,
        "CompletionStatus",
        "EXECUTION_FAILED",
    ),
    "two SQL instances with one name": (
        "sql:\n  instances:\n  - name: staging-db\n  - name: staging-db\n",
        9,
        "twice",
        "rename",
    ),
}


@pytest.mark.parametrize("case", list(IN_PROCESS_CASES))
def test_further_mistakes_name_file_line_and_fix(tmp_path: Path, case: str) -> None:
    body, line, problem_word, fix_word = IN_PROCESS_CASES[case]
    error = problem_of(tmp_path, body)
    assert error.where == f"{tmp_path / 'bad.yaml'}:{line}", error.one_line()
    assert problem_word in error.problem, error.one_line()
    assert error.fix is not None and fix_word in error.fix, error.one_line()


def test_a_name_by_project_number_is_the_same_name_as_by_project_id(tmp_path: Path) -> None:
    head = HEAD + "projectNumber: '123456789012'\n"
    by_number = SERVICE.replace("acme-staging", "123456789012")
    with pytest.raises(UsageError) as caught:
        load_scenario(
            write(tmp_path, f"run:\n  services:\n  - name: {SERVICE}\n  - name: {by_number}\n", head)
        )
    assert caught.value.where == f"{tmp_path / 'bad.yaml'}:10" and "twice" in caught.value.problem


def test_compute_names_are_unique_per_region_not_per_project(tmp_path: Path) -> None:
    # Compute names are unique per scope (https://cloud.google.com/compute/docs/naming-resources): a
    # regional subnetwork's name may recur in another region, not in the same one.
    def subnets(second_region: str) -> str:
        return (
            "compute:\n  subnetworks:\n  - name: sub\n    region: us-central1\n"
            f"  - name: sub\n    region: {second_region}\n"
        )

    assert "twice" in problem_of(tmp_path, subnets("us-central1")).problem
    assert len(load_scenario(write(tmp_path, subnets("europe-west1"))).compute.subnetworks) == 2


def test_unknown_fields_inside_google_resources_stay_allowed(tmp_path: Path) -> None:
    body = f"run:\n  services:\n  - name: {SERVICE}\n    someFutureField: {{nested: [1, 2]}}\n"
    scenario = load_scenario(write(tmp_path, body))
    assert scenario.run.services[0]["someFutureField"] == {"nested": [1, 2]}


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_shipped_scenario_is_valid(path: Path) -> None:
    assert load_scenario(path).name == path.stem


def test_fault_method_names_match_what_the_twin_serves() -> None:
    from infradiag.twin import monitoring
    from infradiag.twin.rest import method_names
    from infradiag.twin.scenario import MONITORING_METHODS

    served = [monitoring._LIST_TIME_SERIES, monitoring._LIST_ALERT_POLICIES, *monitoring._REFUSED]
    served += monitoring._UNIMPLEMENTED
    assert sorted(MONITORING_METHODS) == sorted(rpc.name for rpc in served)
    names = method_names()
    assert {"ListServices", "GetService"} <= set(names["run"])
    assert {"GetIamPolicy", "TestIamPermissions", "SetIamPolicy"} == set(names["iam"])
    assert {"networks.list", "subnetworks.aggregatedList", "regionBackendServices.getHealth"} <= set(
        names["compute"]
    )
    assert {"instances.list", "instances.get", "instances.{verb}"} <= set(names["sql"])
