"""The examples each command's `--help` ends with, by command path (`""` is `infradiag` itself).

`staging`, `staging-healthy` and `staging-custom-domain` are the bundled twins of infradiag.toml and
`scenarios/` the bundled scenarios, so those examples work on a fresh checkout: tests/commands/test_help.py
runs every one marked `run` and expects its exit code; `acme-staging` stands for a real project (the README's
"Pointing it at GCP"), and those examples are parsed only."""

from __future__ import annotations

from infradiag.commands.helpformat import Example

READER = "infradiag-reader@acme-staging.iam.gserviceaccount.com"

EXAMPLES: dict[str, tuple[Example, ...]] = {
    "": (
        Example("Triage the bundled twin of the staging-wide 503 incident", "infradiag triage staging", 1),
        Example("Is the healthy twin fit to test?", "infradiag gate staging-healthy"),
        Example("Each command's options and examples", "infradiag triage --help"),
    ),
    "triage": (
        Example(
            "Triage the environment staging of infradiag.toml: the bundled twin of the 503 incident",
            "infradiag triage staging",
            1,
        ),
        Example(
            "The v1 JSON report on stdout and nothing else, failing only at a P0",
            "infradiag triage staging --format json --fail-on P0",
            1,
        ),
        Example(
            "Prove each fix on a copy of the twin: does applying it clear its finding?",
            "infradiag triage staging --verify-fixes",
            1,
        ),
        Example(
            "Triage a scenario file's twin; a Markdown report for an incident doc",
            "infradiag triage --scenario scenarios/staging-healthy.yaml --format markdown",
        ),
        Example(
            "Triage a real project as a read-only service account, within a minute",
            f"infradiag triage acme-staging --impersonate-service-account {READER} --deadline 60s",
            run=False,
        ),
    ),
    "capture": (
        Example(
            "Record the healthy twin's answers as a scenario file, redacted",
            "infradiag capture staging-healthy -o staging-healthy-capture.yaml",
        ),
        Example(
            "Replay the capture: the same findings as the live triage",
            "infradiag triage --scenario staging-healthy-capture.yaml",
        ),
        Example(
            "Capture a real project, member emails replaced too, within 3 minutes",
            "infradiag capture acme-staging -o acme-staging.yaml --redact-identities --deadline 3m",
            run=False,
        ),
    ),
    "gate": (
        Example("Is the healthy twin fit to test? Exit 0: yes", "infradiag gate staging-healthy"),
        Example(
            "CI before E2E: wait up to 10 minutes for the incident's twin, JUnit for the test view",
            "infradiag gate staging --wait 10m --interval 30s --junit gate.xml --quiet",
            run=False,
        ),
        Example(
            "Judge once, failing only at a P0; the report as Markdown for the job summary",
            "infradiag gate staging --fail-on P0 --format markdown",
            1,
        ),
    ),
    "probe": (
        Example("Probe every service of the incident's twin once", "infradiag probe staging", 1),
        Example("The probe table as JSON", "infradiag probe staging-healthy --format json"),
        Example(
            "Probe each failure twice to tell a flap from an outage, within 30 s",
            "infradiag probe staging --confirm --deadline 30s",
            1,
        ),
    ),
    "sweep": (
        Example(
            "Triage both twins once, keep the history, print what changed",
            "infradiag sweep staging staging-healthy",
            1,
        ),
        Example(
            "Sweep every 5 minutes until Ctrl-C; the exit code is the last complete sweep's",
            "infradiag sweep staging staging-healthy --every 5m",
            run=False,
        ),
    ),
    "history": (
        Example(
            "The sweeps of staging so far, oldest first (after `infradiag sweep staging`)",
            "infradiag history staging",
        ),
        Example("The last 5, as JSON", "infradiag history staging --limit 5 --format json"),
    ),
    "twin": (
        Example("Check a scenario file", "infradiag twin check scenarios/staging-healthy.yaml"),
        Example(
            "Serve a scenario's twin on loopback until Ctrl-C",
            "infradiag twin serve scenarios/staging-healthy.yaml",
            run=False,
        ),
    ),
    "twin serve": (
        Example(
            "Serve the incident's twin until Ctrl-C; its addresses as one JSON line",
            "infradiag twin serve scenarios/staging-vpc-connector-saturation.yaml --format json",
            run=False,
        ),
    ),
    "twin check": (Example("Check a scenario file", "infradiag twin check scenarios/staging-healthy.yaml"),),
    "playbooks": (
        Example("Every playbook and the causes it concludes", "infradiag playbooks list"),
        Example("Check the bundled playbooks", "infradiag playbooks lint"),
    ),
    "playbooks list": (Example("Every playbook and the causes it concludes", "infradiag playbooks list"),),
    "playbooks show": (
        Example(
            "The five whys behind vpc_connector.saturated",
            "infradiag playbooks show vpc-connector-saturation",
        ),
    ),
    "playbooks lint": (
        Example("Check the bundled playbooks", "infradiag playbooks lint"),
        Example(
            "Check your own playbooks before using them with --playbooks",
            "infradiag playbooks lint --dir my-playbooks",
            run=False,
        ),
    ),
}
