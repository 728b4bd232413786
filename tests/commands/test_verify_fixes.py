"""`infradiag triage --verify-fixes`: every fix of every bundled scenario proven on a twin with the fix
applied, or the report says why it cannot be (issue 14, point 5).

The Done-when test verifies the plan of the triage tests/scenario_triage.py shares per scenario: only the
steps with a typed change start a twin of their own.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infradiag.commands.common import open_target
from infradiag.commands.verify import NO_TWIN, scenario_of, verify_report
from infradiag.diagnose.playbook import PLAYBOOK_DIR, load_playbooks
from infradiag.report.markdown import render_markdown
from infradiag.report.model import ReportRequest, ReportVerification, TriageReport
from infradiag.twin.scenario import load_scenario
from infradiag.twin.server import Twin
from tests.commands.test_gate import config_for
from tests.conftest import SCENARIOS, run_cli
from tests.report.schema import assert_valid_report
from tests.scenario_triage import ALL, CONFIG, ENVIRONMENT_OF, group, triage

STOPPED = SCENARIOS / "cause-sql-stopped.yaml"
UNAVAILABLE = "sql.instance_unavailable"
DEADLINE_S = 120.0
URGENT = ("P0", "P1", "P2")
# In the capacity model's words for a change it cannot project (infradiag/twin/whatif_capacity.py).
MODEL_LIMIT = "the capacity model"


def shared_report(path: Path) -> TriageReport:
    result = triage(path)
    assert result.stdout, result.stderr
    return TriageReport.model_validate(json.loads(result.stdout))


def verified(path: Path) -> TriageReport:
    """The shared triage of `path` with its P0-P2 fixes verified, as `triage --verify-fixes` does it."""
    report = shared_report(path)
    environment = ENVIRONMENT_OF.get(path.resolve())
    scenario_path = None if environment else path
    config = CONFIG if environment else None
    with open_target(environment, scenario_path, config) as target:
        books = load_playbooks(PLAYBOOK_DIR)
        scenario = scenario_of(environment, scenario_path, config)
        return verify_report(report, scenario, target, books, DEADLINE_S, URGENT)


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem, marks=group(p)) for p in ALL])
def test_every_p0_to_p2_fix_clears_its_finding_or_says_why_it_cannot_be_proven(path: Path) -> None:
    report = verified(path)
    assert_valid_report(report.to_json_dict())
    problems = []
    for finding in report.findings:
        if finding.priority not in URGENT:
            continue
        verification = finding.remediation.verification
        assert verification is not None, finding.id
        typed = finding.remediation.request is not None and finding.remediation.request.body
        where = f"{path.stem}: {finding.cause} on {finding.resources[0]}"
        if verification.result == "unproven":
            assert verification.detail.startswith("cannot be proven: ") and len(verification.detail) > 30
            # A typed change is proven, unless the capacity model says it cannot project it.
            if typed and MODEL_LIMIT not in verification.detail:
                problems.append(f"{where}: {verification.detail}")
        elif verification.result != "clears":
            problems.append(f"{where}: {verification.detail}")
        else:
            assert typed, f"{where}: only a typed change can clear"
            assert verification.detail.startswith(f"clears {finding.cause} on {finding.resources[0]}")
    assert problems == []


def with_request(report: TriageReport, cause: str, request: ReportRequest | None) -> TriageReport:
    """The report with the fix of its `cause` finding making `request` instead (None: a manual step)."""
    findings = [
        f.model_copy(update={"remediation": f.remediation.model_copy(update={"request": request})})
        if f.cause == cause
        else f
        for f in report.findings
    ]
    return report.model_copy(update={"findings": findings})


def verify_stopped(report: TriageReport) -> ReportVerification | None:
    with open_target(None, STOPPED, None) as target:
        books = load_playbooks(PLAYBOOK_DIR)
        again = verify_report(report, load_scenario(STOPPED), target, books, DEADLINE_S, URGENT)
    return next(f for f in again.findings if f.cause == UNAVAILABLE).remediation.verification


@group(STOPPED)
def test_a_fix_that_changes_nothing_is_shown_not_to_clear() -> None:
    # The stopped instance patched to the policy it already has: the re-triage still finds it stopped.
    request = ReportRequest(
        api="sqladmin",
        method="instances.patch",
        resource="projects/acme-staging/instances/staging-db",
        body={"settings": {"activationPolicy": "NEVER"}},
    )
    verification = verify_stopped(with_request(shared_report(STOPPED), UNAVAILABLE, request))
    assert verification is not None and verification.result == "does_not_clear"
    assert verification.detail.startswith(f"does not clear {UNAVAILABLE}: the re-triage still finds")


@group(STOPPED)
def test_a_manual_step_cannot_be_proven_and_says_so() -> None:
    verification = verify_stopped(with_request(shared_report(STOPPED), UNAVAILABLE, None))
    assert verification is not None and verification.result == "unproven"
    assert verification.detail.startswith("cannot be proven: not a typed change: a manual step")


def test_triage_verify_fixes_reports_each_fix_in_json_junit_and_markdown(tmp_path: Path) -> None:
    junit = tmp_path / "report.xml"
    result = run_cli(
        "triage", "--scenario", str(STOPPED), "--verify-fixes", "--format", "json", "--junit", str(junit)
    )
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    assert_valid_report(data)
    for finding in data["findings"]:  # every step of the plan is verified, P3 too
        assert finding["remediation"]["verification"]["result"] in ("clears", "does_not_clear", "unproven")
    verification = next(f for f in data["findings"] if f["cause"] == UNAVAILABLE)["remediation"][
        "verification"
    ]
    assert verification["result"] == "clears"
    assert verification["detail"].startswith(
        f"clears {UNAVAILABLE} on projects/acme-staging/instances/staging-db"
    )
    assert "database/up reads 1" in verification["detail"]
    assert f"on the twin: clears {UNAVAILABLE}" in junit.read_text()
    markdown = render_markdown(TriageReport.model_validate(data))
    assert "- on the twin: clears sql.instance" in markdown


def test_the_terminal_report_shows_one_verification_line_per_step() -> None:
    result = run_cli("triage", "--scenario", str(STOPPED), "--verify-fixes")
    lines = [line for line in result.stdout.splitlines() if line.startswith("# on the twin: ")]
    assert lines, result.stdout
    assert lines[0].startswith(f"# on the twin: clears {UNAVAILABLE} on ")


def test_an_environment_without_a_twin_has_every_fix_unproven(tmp_path: Path) -> None:
    # A running twin named by its endpoints plays a real environment: there is no scenario to apply a fix to.
    with Twin(load_scenario(STOPPED)) as twin:
        config = config_for(twin, tmp_path)
        result = run_cli("triage", "--config", str(config), "staging", "--verify-fixes", "--format", "json")
    data = json.loads(result.stdout)
    assert data["findings"]
    for finding in data["findings"]:
        assert finding["remediation"]["verification"] == {
            "result": "unproven",
            "detail": f"cannot be proven: {NO_TWIN}",
        }
    assert "capture it with `infradiag capture ENV -o FILE`" in NO_TWIN
