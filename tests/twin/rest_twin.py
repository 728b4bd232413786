"""Helpers for the REST conformance tests: small scenarios, a running twin, official clients pointed at it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from google.api_core.client_options import ClientOptions
from google.auth.credentials import AnonymousCredentials

from infradiag.twin.requestlog import LoggedCall
from infradiag.twin.scenario import Scenario
from infradiag.twin.server import Twin

PROJECT = "acme-staging"
NUMBER = "123456789012"
REGION = "us-central1"
LOCATION = f"projects/{PROJECT}/locations/{REGION}"
COMPUTE = f"https://www.googleapis.com/compute/v1/projects/{PROJECT}"


def scenario(**sections: Any) -> Scenario:
    """A valid scenario of acme-staging holding `sections` (run=..., compute=..., apiFaults=...)."""
    return Scenario.model_validate(
        {
            "apiVersion": "infradiag/twin-v1",
            "name": "conformance",
            "project": PROJECT,
            "projectNumber": NUMBER,
            "region": REGION,
            "now": "2026-09-15T23:06:52Z",
            **sections,
        }
    )


@contextmanager
def serve(scenario: Scenario) -> Iterator[Twin]:
    """A running twin of `scenario`, stopped afterwards."""
    with Twin(scenario) as twin:
        yield twin


def rest_kwargs(twin: Twin) -> dict[str, Any]:
    """What an official client takes to talk REST to the twin with anonymous credentials."""
    assert twin.addresses is not None
    return {
        "transport": "rest",
        "credentials": AnonymousCredentials(),  # type: ignore[no-untyped-call]
        "client_options": ClientOptions(api_endpoint=twin.addresses.rest),
    }


def calls(twin: Twin, method: str) -> list[LoggedCall]:
    """The logged calls of one RPC."""
    return [c for c in twin.log.calls() if c.method == method]


def fault(api: str, error: str, method: str | None = None, **extra: Any) -> dict[str, Any]:
    """An apiFaults entry."""
    entry: dict[str, Any] = {"api": api, "error": error, **extra}
    if method is not None:
        entry["method"] = method
    return entry


# google.rpc code -> the HTTP status Google maps it to, and the google-api-core exception that status raises.
FAULT_CODES = {
    "PERMISSION_DENIED": 403,
    "RESOURCE_EXHAUSTED": 429,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
    "NOT_FOUND": 404,
    "INTERNAL": 500,
}
