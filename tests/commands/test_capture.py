"""`infradiag capture`: a capture of each bundled scenario's twin, replayed with `triage --scenario`, gives
the live triage's findings and the evidence they cite; nothing secret reaches the file.

The live triage is tests/scenario_triage.py's (made once per scenario and worker), so each case costs one
capture and one replay.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import ROOT, SCENARIOS, run_cli
from tests.scenario_triage import ALL, CONFIG, ENVIRONMENT_OF, group, triage

# What differs from one run of a twin to the next: timings ("503 after 447 ms"), the loopback port of each
# service, and the time of day a certificate made at the twin's start expires.
_VARYING = (
    (re.compile(r"\d+(?:\.\d+)? ?(?:ms|s)\b"), "T"),
    (re.compile(r"127\.0\.0\.1:\d+"), "127.0.0.1:PORT"),
    (re.compile(r"(\d{4}-\d\d-\d\d)T\d\d:\d\d:\d\dZ"), r"\1"),
)


def _steady(detail: str) -> str:
    for pattern, replacement in _VARYING:
        detail = pattern.sub(replacement, detail)
    return detail


def _cited(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Each finding with what it cites: cause, priority, resources, services, and every piece of evidence of
    its five whys (timings masked)."""
    return sorted(
        (
            finding["cause"],
            finding["priority"],
            tuple(finding["resources"]),
            tuple(finding["affectedServices"]),
            tuple(
                (e["source"], _steady(e["detail"])) for why in finding["why"] for e in why.get("evidence", [])
            ),
        )
        for finding in report["findings"]
    )


def _unknowns(report: dict[str, Any]) -> set[tuple[str, str]]:
    return {(u["source"], u["reason"]) for u in report["unknowns"]}


def _probes(report: dict[str, Any]) -> list[tuple[Any, ...]]:
    return sorted(
        (
            p["service"],
            p["path"],
            p["outcome"],
            p.get("status"),
            p.get("servedBy"),
            _steady(p["detail"]),
            tuple(_steady(c) for c in p.get("failedChecks", [])),
        )
        for p in report["probes"]
    )


def capture_of(path: Path, out: Path, *extra: str) -> tuple[int, list[str]]:
    """`infradiag capture` of the scenario as its triage runs it; the config to replay it with."""
    environment = ENVIRONMENT_OF.get(path.resolve())
    if environment is None:
        result = run_cli("capture", "--scenario", str(path), "-o", str(out), *extra)
        return result.returncode, ["--scenario", str(out)]
    result = run_cli("capture", "--config", str(CONFIG), environment, "-o", str(out), *extra)
    # The same environment (its probe settings), with the capture as its twin.
    config = out.with_suffix(".toml")
    twin = path.resolve().relative_to(ROOT).as_posix()
    config.write_text(CONFIG.read_text().replace(f'"{twin}"', json.dumps(str(out))))
    return result.returncode, ["--config", str(config), environment]


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem, marks=group(p)) for p in ALL])
def test_a_capture_replays_the_live_triage(path: Path, tmp_path: Path) -> None:
    live = triage(path)
    out = tmp_path / "capture.yaml"
    code, replay_with = capture_of(path, out)
    assert code in (0, 3), out
    assert run_cli("twin", "check", str(out)).returncode == 0
    replay = run_cli("triage", *replay_with, "--format", "json", "--fail-on", "P3")
    assert replay.returncode == live.returncode, replay.stderr
    before, after = json.loads(live.stdout), json.loads(replay.stdout)
    assert after["verdict"] == before["verdict"]
    assert _cited(after) == _cited(before)
    assert _unknowns(after) == _unknowns(before)
    assert _probes(after) == _probes(before)


# Values that must never leave the project: env values, a JWT and an API key in health bodies.
_ENV_VALUE = "pg-password-4f9d2c7e1b"
_PLAIN_ENV_VALUE = "https://internal-billing.acme.example/v3?sig=77aa01"
_JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhZG1pbkBhY21lIn0.c2lnbmF0dXJlLXZhbHVlLTEyMzQ1"
_API_KEY = "AIzaSyA1b2C3d4E5f6G7h8I9j0KkLlMmNnOoPpQ"
_OAUTH = "ya29.A0ARrdaM-secret-oauth-token-value"


def _with_secrets(tmp_path: Path) -> Path:
    """staging-healthy with env values on a service, a secret reference, a token in an API message and
    credentials in its bodies."""
    scenario = yaml.safe_load((SCENARIOS / "staging-healthy.yaml").read_text())
    service = scenario["run"]["services"][0]
    short = service["name"].rsplit("/", 1)[-1]
    service["template"]["containers"][0]["env"] = [
        {"name": "DB_PASSWORD", "value": _ENV_VALUE},
        {"name": "BILLING_URL", "value": _PLAIN_ENV_VALUE},
        {"name": "API_TOKEN", "valueSource": {"secretKeyRef": {"secret": "api-token", "version": "3"}}},
    ]
    service["description"] = f"deployed by CI, called with Authorization: Bearer {_OAUTH}"
    scenario.setdefault("endpoints", {})[short] = {
        "/health": {"json": {"status": "ok", "session": _JWT, "upstream": f"key={_API_KEY}"}}
    }
    path = tmp_path / "secrets.yaml"
    path.write_text(yaml.safe_dump(scenario, sort_keys=False))
    assert run_cli("twin", "check", str(path)).returncode == 0
    return path


def test_no_secret_value_of_the_project_reaches_the_capture(tmp_path: Path) -> None:
    out = tmp_path / "capture.yaml"
    result = run_cli("capture", "--scenario", str(_with_secrets(tmp_path)), "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    for secret in (_ENV_VALUE, _PLAIN_ENV_VALUE, _JWT, _API_KEY, _OAUTH, "c2lnbmF0dXJlLXZhbHVlLTEyMzQ1"):
        assert secret not in text
        assert secret not in result.stdout + result.stderr
    captured = yaml.safe_load(text)
    env = captured["run"]["services"][0]["template"]["containers"][0]["env"]
    # Names stay, values go; a secret reference is a name and stays whole.
    assert env == [
        {"name": "DB_PASSWORD", "value": "[redacted]"},
        {"name": "BILLING_URL", "value": "[redacted]"},
        {"name": "API_TOKEN", "valueSource": {"secretKeyRef": {"secret": "api-token", "version": "3"}}},
    ]
    # The body keeps what is not secret, so the replay's health checks read the same.
    body = next(iter(captured["endpoints"].values()))["/health"]["json"]
    assert body["status"] == "ok"


INVOKER_DENIED = SCENARIOS / "cause-run-invoker-denied.yaml"


@group(INVOKER_DENIED)
def test_redacted_identities_are_replaced_consistently_and_the_replay_still_joins(tmp_path: Path) -> None:
    out = tmp_path / "capture.yaml"
    result = run_cli("capture", "--scenario", str(INVOKER_DENIED), "-o", str(out), "--redact-identities")
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    assert "frontend@acme-staging.iam.gserviceaccount.com" not in text
    captured = yaml.safe_load(text)
    (policy,) = captured["iam"].values()
    members = [m for b in policy["bindings"] for m in b["members"]]
    assert members == ["serviceAccount:serviceaccount-1@redacted.invalid"]
    # The same stand-in wherever the email was: the frontend's own service account.
    frontend = next(s for s in captured["run"]["services"] if s["name"].endswith("/frontend"))
    assert frontend["template"]["serviceAccount"] == "serviceaccount-1@redacted.invalid"
    live = json.loads(triage(INVOKER_DENIED).stdout)
    replay = json.loads(run_cli("triage", "--scenario", str(out), "--format", "json").stdout)
    causes = sorted((f["cause"], f["priority"], tuple(f["resources"])) for f in replay["findings"])
    assert causes == sorted((f["cause"], f["priority"], tuple(f["resources"])) for f in live["findings"])


STAGING = SCENARIOS / "staging-vpc-connector-saturation.yaml"


def test_series_are_trimmed_to_the_windows_the_triage_reads(tmp_path: Path) -> None:
    from datetime import datetime

    from infradiag.collect.signals import SIGNALS

    out = tmp_path / "capture.yaml"
    assert run_cli("capture", "--scenario", str(STAGING), "-o", str(out)).returncode == 0
    widest = max(signal.window for signal in SIGNALS)

    def ends(scenario: dict[str, Any]) -> list[datetime]:
        return [
            datetime.fromisoformat(p["interval"]["endTime"])
            for series in scenario["monitoring"]["timeSeries"]
            for p in series["points"]
        ]

    original, captured = yaml.safe_load(STAGING.read_text()), yaml.safe_load(out.read_text())
    now = datetime.fromisoformat(captured["now"])
    assert captured["now"] == original["now"].replace("+00:00", "Z")
    assert min(ends(original)) < now - widest  # the scenario holds older points...
    assert all(now - widest <= end <= now for end in ends(captured))  # ...the capture only the windows'
    assert ends(captured)


def test_a_refused_read_is_captured_as_the_fault_that_replays_it(tmp_path: Path) -> None:
    scenario = yaml.safe_load((SCENARIOS / "missing-permissions.yaml").read_text())
    # Monitoring (gRPC) refused as a disabled API too: its reason travels in grpc-status-details-bin.
    scenario["apiFaults"][0]["reason"] = "SERVICE_DISABLED"
    refusing = tmp_path / "refusing.yaml"
    refusing.write_text(yaml.safe_dump(scenario, sort_keys=False))
    out = tmp_path / "capture.yaml"
    result = run_cli("capture", "--scenario", str(refusing), "-o", str(out))
    assert result.returncode == 3, result.stderr  # reads failed: the capture says so
    faults = yaml.safe_load(out.read_text())["apiFaults"]
    # Every Monitoring and every Compute call was refused as a disabled API refuses it.
    assert {f["api"] for f in faults} == {"monitoring", "compute"}
    assert {(f["error"], f.get("reason")) for f in faults} == {("PERMISSION_DENIED", "SERVICE_DISABLED")}
    live = run_cli("triage", "--scenario", str(refusing), "--format", "json")
    replay = run_cli("triage", "--scenario", str(out), "--format", "json")
    fixes = [
        sorted((u["source"], u["fix"]) for u in json.loads(r.stdout)["unknowns"]) for r in (live, replay)
    ]
    assert fixes[0] == fixes[1]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        ((), "-o/--output FILE is required"),
        (("-o", "/nonexistent-dir/capture.yaml"), "--output: /nonexistent-dir/capture.yaml: not a file"),
        (("-o", "out.yaml", "--deadline", "soon"), "--deadline: 'soon' is not a duration"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: tuple[str, ...], says: str, tmp_path: Path) -> None:
    result = run_cli("capture", "--scenario", str(STAGING), *args, cwd=tmp_path)
    assert result.returncode == 2
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_a_read_cut_by_the_deadline_replays_as_the_same_timed_out_unknown(tmp_path: Path) -> None:
    scenario = yaml.safe_load((SCENARIOS / "staging-healthy.yaml").read_text())
    scenario["apiFaults"] = [{"api": "sql", "delayMs": 60000}]  # Cloud SQL answers after any deadline
    slow = tmp_path / "slow-sql.yaml"
    slow.write_text(yaml.safe_dump(scenario, sort_keys=False))
    out = tmp_path / "capture.yaml"
    result = run_cli("capture", "--scenario", str(slow), "-o", str(out), "--deadline", "6s")
    assert result.returncode == 3, result.stderr  # a read failed: the capture says so
    assert yaml.safe_load(out.read_text())["apiFaults"] == [{"api": "sql", "error": "DEADLINE_EXCEEDED"}]
    live = run_cli("triage", "--scenario", str(slow), "--format", "json", "--deadline", "6s")
    replay = run_cli("triage", "--scenario", str(out), "--format", "json")
    assert (
        _unknowns(json.loads(replay.stdout))
        == _unknowns(json.loads(live.stdout))
        == {("sql", "DEADLINE_EXCEEDED")}
    )


def test_a_capture_of_some_services_replays_as_the_triage_of_those(tmp_path: Path) -> None:
    config = tmp_path / "infradiag.toml"
    config.write_text(
        f'[environments.two]\ntwin = {json.dumps(str(STAGING))}\nservices = ["backend", "auth"]\n'
    )
    out = tmp_path / "capture.yaml"
    assert run_cli("capture", "--config", str(config), "two", "-o", str(out)).returncode == 0
    names = [s["name"].rsplit("/", 1)[-1] for s in yaml.safe_load(out.read_text())["run"]["services"]]
    assert sorted(names) == ["auth", "backend"]
    live = json.loads(run_cli("triage", "--config", str(config), "two", "--format", "json").stdout)
    replay = json.loads(run_cli("triage", "--scenario", str(out), "--format", "json").stdout)
    assert _probes(replay) == _probes(live)
    assert _cited(replay) == _cited(live)


def test_a_twin_that_requires_credentials_is_captured_without_any_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.authtwin import no_real_google, write_scenario

    no_real_google(monkeypatch, tmp_path / "home")
    scenario = write_scenario(tmp_path)
    out = tmp_path / "capture.yaml"
    result = run_cli("capture", "--scenario", str(scenario), "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    # The twin's tokens (access and ID tokens are JWTs it signs) went with every call; none was recorded.
    assert "eyJ" not in text and "ya29." not in text and "Bearer" not in text
    captured = yaml.safe_load(text)
    assert "twin" not in captured  # the replay is a twin of its own, anonymous by default
    # Monitoring answered through the credentials' interceptor and the recorder both.
    assert captured["monitoring"]["timeSeries"]
    live = json.loads(run_cli("triage", "--scenario", str(scenario), "--format", "json").stdout)
    replay = json.loads(run_cli("triage", "--scenario", str(out), "--format", "json").stdout)
    assert _probes(replay) == _probes(live)
    assert _cited(replay) == _cited(live)


def test_without_any_credentials_nothing_is_written_and_the_fix_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.authtwin import no_real_google

    no_real_google(monkeypatch, tmp_path / "home")
    config = tmp_path / "infradiag.toml"
    config.write_text('[environments.real]\nproject = "acme-staging"\nregion = "us-central1"\n')
    out = tmp_path / "capture.yaml"
    result = run_cli("capture", "real", "--config", str(config), "-o", str(out))
    assert result.returncode == 3
    assert "gcloud auth application-default login" in result.stderr
    assert "Traceback" not in result.stderr
    assert not out.exists()


def _running(twin: Any, folder: Path, extra: str = "") -> Path:
    """An infradiag.toml whose environment `running` is the running `twin`."""
    assert twin.addresses is not None
    config = folder / "infradiag.toml"
    config.write_text(
        "[environments.running]\n"
        f'project = "{twin.addresses.project}"\n'
        f'region = "{twin.addresses.region}"\n'
        f'api_endpoint = "{twin.addresses.rest}"\n'
        f'monitoring_endpoint = "{twin.addresses.grpc}"\n'
        f"now = {twin.scenario.now:%Y-%m-%dT%H:%M:%SZ}\n{extra}"
    )
    return config


def test_a_capture_makes_the_calls_of_a_triage_and_no_other(tmp_path: Path) -> None:
    from collections import Counter

    from infradiag.twin.scenario import load_scenario
    from infradiag.twin.server import Twin

    with Twin(load_scenario(SCENARIOS / "staging-incident-full.yaml")) as twin:
        config = _running(twin, tmp_path)
        run_cli("triage", "running", "--config", str(config), "--format", "json")
        triaged = twin.log.calls()
        result = run_cli("capture", "running", "--config", str(config), "-o", str(tmp_path / "capture.yaml"))
        captured = twin.log.calls()[len(triaged) :]
    assert result.returncode == 0, result.stderr
    assert not any(call.mutating for call in captured)
    # The same reads, as often: every list, get and query of the triage (raw series fit in the same pages).
    assert Counter((c.api, c.method) for c in captured) == Counter((c.api, c.method) for c in triaged)


def test_a_probe_of_a_custom_url_is_replayed_at_that_urls_path(tmp_path: Path) -> None:
    from infradiag.twin.scenario import load_scenario
    from infradiag.twin.server import Twin

    with Twin(load_scenario(STAGING)) as twin:
        assert twin.addresses is not None
        # The service reached by another address (as a custom domain reaches it), at a path of its own.
        url = f"{twin.addresses.services['backend']}/health"
        config = _running(twin, tmp_path, f'[environments.running.probes.backend]\npaths = ["{url}"]\n')
        out = tmp_path / "capture.yaml"
        result = run_cli("capture", "running", "--config", str(config), "-o", str(out))
    assert result.returncode == 0, result.stderr
    assert run_cli("twin", "check", str(out)).returncode == 0
    assert list(yaml.safe_load(out.read_text())["endpoints"]["backend"]) == ["/health"]
