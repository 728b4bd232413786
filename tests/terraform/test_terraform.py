"""terraform/: every file parses as HCL2, checkov passes with each skip explained, the sweep identity holds
exactly the read-only roles the collectors need, and the log-based metric matches the sweep's log line."""

from __future__ import annotations

import json
import operator
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import hcl2  # python-hcl2
import typer

from infradiag.cli import app
from infradiag.collect.registry import VIEWER_ROLES
from infradiag.history import FindingRecord, SweepRecord
from infradiag.sweep.diff import compare
from infradiag.sweep.logline import EVENT, log_entry
from infradiag.sweep.partition import TaskShare
from tests.conftest import ROOT

TERRAFORM = ROOT / "terraform"
MODULE = TERRAFORM / "modules" / "infradiag-sweep"
EXAMPLE = TERRAFORM / "examples" / "staging"
# Besides the viewer roles, the only project-level role: write (never read) log entries.
JOB_EXTRA_ROLES = {"roles/logging.logWriter"}


# Plain values: strings without their quotes, heredocs as text, blocks as dicts.
PLAIN = hcl2.SerializationOptions(
    strip_string_quotes=True, explicit_blocks=False, preserve_heredocs=False, with_comments=False
)


def parse(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return dict(hcl2.load(handle, serialization_options=PLAIN))


def value(raw: Any) -> Any:
    """An attribute's value: the parser wraps blocks in a one-element list; strings keep HCL escapes."""
    raw = raw[0] if isinstance(raw, list) and len(raw) == 1 else raw
    return raw.replace('\\"', '"') if isinstance(raw, str) else raw


def resources(folder: Path = MODULE) -> dict[str, dict[str, dict[str, Any]]]:
    """type -> name -> attributes, over every .tf file of `folder`."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for path in sorted(folder.glob("*.tf")):
        for block in parse(path).get("resource", []):
            for kind, named in block.items():
                found.setdefault(kind, {}).update(named)
    return found


def locals_of(folder: Path = MODULE) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted(folder.glob("*.tf")):
        for block in parse(path).get("locals", []):
            merged.update({k: value(v) for k, v in block.items()})
    return merged


def test_every_tf_file_parses_as_hcl2() -> None:
    files = sorted(TERRAFORM.rglob("*.tf"))
    assert {p.parent for p in files} == {MODULE, EXAMPLE}
    for path in files:
        assert parse(path), f"{path} parsed to nothing"


def test_the_module_deploys_a_scheduled_job_with_a_metric_and_an_alert() -> None:
    found = resources()
    for kind in (
        "google_cloud_run_v2_job",
        "google_cloud_scheduler_job",
        "google_service_account",
        "google_project_iam_member",
        "google_storage_bucket",
        "google_logging_metric",
        "google_monitoring_alert_policy",
    ):
        assert kind in found, kind
    [call] = [value(m) for block in parse(EXAMPLE / "main.tf")["module"] for m in block.values()]
    assert (EXAMPLE / value(call["source"])).resolve() == MODULE


def test_viewer_roles_match_the_apis_the_collectors_call() -> None:
    roles = locals_of()["viewer_roles"]
    assert set(roles) == set(VIEWER_ROLES.values())
    assert all(len(why) > 20 for why in roles.values()), "each role says why it is needed"


def test_the_sweep_identity_holds_read_only_roles_only() -> None:
    found = resources()
    assert not {"google_project_iam_binding", "google_project_iam_policy"} & set(found)  # never authoritative
    project_roles = set()
    for grant in found["google_project_iam_member"].values():
        role = value(grant["role"])
        if role == "${each.value.role}":
            assert value(grant["for_each"]) == "${local.viewer_grants}"
            project_roles |= set(locals_of()["viewer_roles"])
        else:
            project_roles.add(role)
        assert value(grant["member"]) == "serviceAccount:${google_service_account.sweep.email}"
    assert project_roles == set(VIEWER_ROLES.values()) | JOB_EXTRA_ROLES
    assert all(r.lower().endswith("viewer") for r in project_roles - JOB_EXTRA_ROLES)
    [bucket_grant] = found["google_storage_bucket_iam_member"].values()
    assert value(bucket_grant["bucket"]) == "${google_storage_bucket.history.name}"  # its own bucket only
    assert value(bucket_grant["role"]) == "roles/storage.objectUser"
    [trigger] = found["google_cloud_run_v2_job_iam_member"].values()
    assert value(trigger["role"]) == "roles/run.invoker"
    assert value(trigger["member"]) == "serviceAccount:${google_service_account.trigger.email}"


def test_the_scheduler_calls_the_jobs_run_endpoint_with_oauth() -> None:
    [scheduler] = resources()["google_cloud_scheduler_job"].values()
    target = value(scheduler["http_target"])
    assert value(target["http_method"]) == "POST"
    assert value(target["uri"]) == "https://run.googleapis.com/v2/${google_cloud_run_v2_job.sweep.id}:run"
    assert "oidc_token" not in target  # Google APIs take OAuth access tokens, not ID tokens
    token = value(target["oauth_token"])
    assert value(token["service_account_email"]) == "${google_service_account.trigger.email}"
    assert value(token["scope"]) == "https://www.googleapis.com/auth/cloud-platform"


def test_the_job_sweeps_once_per_execution_from_the_mounted_config() -> None:
    [job] = resources()["google_cloud_run_v2_job"].values()
    template = value(value(job["template"])["template"])
    assert value(template["max_retries"]) == 0
    assert value(template["service_account"]) == "${google_service_account.sweep.email}"
    args = value(value(template["containers"])["args"]).replace(" ", "")
    assert '["sweep","--once","--config",local.config_path' in args
    sweep_command = typer.main.get_command(app).commands["sweep"]
    known = {opt for param in sweep_command.params for opt in param.opts}
    flags = set(re.findall(r'"(--[a-z-]+)"', args))
    assert flags and flags <= known, flags - known
    gcs = value(value(template["volumes"])["gcs"])
    assert value(gcs["bucket"]) == "${google_storage_bucket.history.name}"
    # The image's user owns the mount, so the sweep can publish its history there.
    dockerfile = (TERRAFORM / "image" / "Dockerfile").read_text()
    [user] = re.findall(r"^USER (\d+):(\d+)$", dockerfile, re.MULTILINE)
    assert {f"uid={user[0]}", f"gid={user[1]}"} <= set(value(gcs["mount_options"]))


CLAUSE = re.compile(r'^jsonPayload\.([\w.]+)\s*(=|!=|>=|<=|>|<)\s*("[^"]*"|-?\d+(?:\.\d+)?)$')
COMPARE = {
    "=": operator.eq,
    "!=": operator.ne,
    ">": operator.gt,
    "<": operator.lt,
    ">=": operator.ge,
    "<=": operator.le,
}


def matches(log_filter: str, entry: dict[str, Any]) -> bool:
    """Evaluate the filter's jsonPayload clauses (ANDed) against a log entry as Cloud Logging would see it."""
    clauses = [c.strip() for c in re.split(r"\s+AND\s+", log_filter.strip())]
    payload = [c for c in clauses if c.startswith("jsonPayload.")]
    assert payload, "the metric filters on the log line's fields"
    for clause in payload:
        match = CLAUSE.match(clause)
        assert match, f"cannot read filter clause {clause!r}"
        path, op, literal = match.groups()
        actual: Any = entry
        for key in path.split("."):
            assert isinstance(actual, dict) and key in actual, f"the log line has no {path}"
            actual = actual[key]
        expected = json.loads(literal)
        if not COMPARE[op](actual, expected):
            return False
    return True


def sweep(*findings: FindingRecord, verdict: str) -> SweepRecord:
    return SweepRecord(
        "staging", "acme-staging", "2026-09-15T23:06:52Z", 10, verdict, 0, findings, {"backend": True}
    )


def test_the_log_metric_counts_exactly_the_sweeps_with_a_new_p0_or_p1() -> None:
    [metric] = resources()["google_logging_metric"].values()
    log_filter = value(metric["filter"])
    assert f'jsonPayload.event="{EVENT}"' in log_filter
    healthy = sweep(verdict="healthy")
    p0 = FindingRecord("f3c1", "vpc_connector.saturated", "P0", "Connector full")
    down = sweep(p0, verdict="down")
    still_down = sweep(p0, verdict="down")
    task = TaskShare()
    assert matches(log_filter, log_entry(down, compare(down, healthy, [healthy, down]), task))
    assert not matches(log_filter, log_entry(still_down, compare(still_down, down, [down, still_down]), task))
    assert not matches(log_filter, log_entry(healthy, compare(healthy, down, [down, healthy]), task))
    extractor = value(metric["label_extractors"])["environment"]
    assert extractor == "EXTRACT(jsonPayload.environment)"
    assert log_entry(down, compare(down, healthy, [healthy, down]), task)["environment"] == "staging"


# ./dev installs checkov in a venv of its own (see pyproject.toml, the test extra).
CHECKOV = ROOT / ".venv" / "tools" / "checkov" / "bin" / "checkov"


def test_checkov_passes_with_every_skip_explained() -> None:
    checkov = CHECKOV if CHECKOV.exists() else Path(shutil.which("checkov") or CHECKOV)
    assert checkov.exists(), "checkov is not installed: `./dev test` installs it into .venv/tools/checkov"
    result = subprocess.run(
        [
            str(checkov),
            "-d",
            "terraform",
            "--compact",
            "-o",
            "json",
            "--skip-download",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    reports = json.loads(result.stdout)
    reports = reports if isinstance(reports, list) else [reports]
    by_type = {r["check_type"]: r for r in reports}
    assert by_type["terraform"]["summary"]["resource_count"] > 0
    assert by_type["terraform"]["summary"]["passed"] > 0
    for report in reports:
        assert report["summary"]["parsing_errors"] == 0, report["check_type"]
        failed = [(c["check_id"], c["resource"], c["file_path"]) for c in report["results"]["failed_checks"]]
        assert failed == [], failed
        for skipped in report["results"]["skipped_checks"]:
            reason = (skipped["check_result"].get("suppress_comment") or "").strip()
            assert len(reason) > 20, (
                f"{skipped['check_id']} on {skipped['resource']} is skipped without a reason"
            )
    assert result.returncode == 0, result.stderr[-2000:]
