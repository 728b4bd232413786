"""A service whose revisions never became ready serves nothing: a finding of an outage, never a pass.

Cloud Run gives such a service no `uri` and no `latestReadyRevision` and says why in its Ready condition
(https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services); it cannot be probed, yet
it was asked about. Driven through the CLI against the bundled scenario of one.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from infradiag.commands.common import exit_code
from infradiag.report.model import ReportFinding, ReportRemediation, ReportSuppression
from tests.conftest import SCENARIOS, run_cli
from tests.report.reports import degraded_report

NEVER_READY = SCENARIOS / "cause-run-revision-never-ready.yaml"
BILLING = "projects/acme-staging/locations/us-central1/services/billing"


def triage(*args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("triage", *args, "--format", "json")
    return result.returncode, json.loads(result.stdout)


def test_a_never_ready_service_is_a_p1_with_its_specific_fix_and_never_passes() -> None:
    # --fail-on P0: the P1 alone would not fail the run; the service serving nothing must.
    code, report = triage("--scenario", str(NEVER_READY), "--fail-on", "P0")
    assert (code, report["verdict"]) == (1, "degraded")
    assert report["servicesWithoutUrl"] == ["billing"]
    assert "billing" not in {p["service"] for p in report["probes"]}
    (finding,) = [f for f in report["findings"] if f["resources"] == [BILLING]]
    assert (finding["cause"], finding["priority"], finding["affectedServices"]) == (
        "run.revision_not_ready",
        "P1",
        ["billing"],
    )
    remediation = finding["remediation"]
    assert remediation["commands"][0] == (
        "gcloud projects add-iam-policy-binding acme-shared --member "
        "serviceAccount:service-123456789012@serverless-robot-prod.iam.gserviceaccount.com "
        "--role roles/artifactregistry.reader"
    )
    assert "billing" in remediation["summary"] and "us-central1" in remediation["summary"]


def test_a_fleet_of_only_never_ready_services_is_down_with_a_p0(tmp_path: Path) -> None:
    config = tmp_path / "infradiag.toml"
    config.write_text(
        f'[environments.env]\ntwin = "{NEVER_READY}"\nservices = ["billing"]\n', encoding="utf-8"
    )
    code, report = triage("env", "--config", str(config))
    assert (code, report["verdict"]) == (1, "down")
    (finding,) = [f for f in report["findings"] if f["cause"] == "run.revision_not_ready"]
    assert finding["priority"] == "P0"


def never_ready_finding(accepted: bool) -> ReportFinding:
    suppressed = (
        ReportSuppression(reason="known", expires=date(2099, 1, 1), source="s.yaml:1") if accepted else None
    )
    return ReportFinding(
        id="f1",
        cause="run.revision_not_ready",
        priority="P1",
        title="billing serves nothing",
        resources=[BILLING],
        affected_services=["billing"],
        why=[],
        remediation=ReportRemediation(summary="fix", commands=[]),
        confidence=0.85,
        suppressed=suppressed,
    )


def test_a_service_without_url_fails_the_exit_code_unless_its_finding_is_accepted() -> None:
    def code(accepted: bool) -> int:
        report = degraded_report(findings=[never_ready_finding(accepted)])
        return exit_code(report.model_copy(update={"services_without_url": ["billing"]}), "P0")

    assert (code(False), code(True)) == (1, 0)
