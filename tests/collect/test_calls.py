"""Failed calls become unknowns with the right code and fix, whatever error shape the API answers in."""

from __future__ import annotations

from google.api_core import exceptions as gexc

from infradiag.collect.calls import unknown_from_error


def test_legacy_rest_errors_are_classified_by_http_status() -> None:
    # Compute and Cloud SQL answer {"error": {code, message, errors}} without a `status`: the library raises
    # the HTTP class (Forbidden), which carries no gRPC code.
    denied = unknown_from_error("compute", "c", "p", gexc.Forbidden("Required 'compute.firewalls.list'"))
    assert (denied.reason, denied.fix) == (
        "PERMISSION_DENIED",
        "grant roles/compute.networkViewer on project p to the identity running infradiag",
    )
    quota = unknown_from_error("sql", "c", "p", gexc.TooManyRequests("rate"))
    assert quota.reason == "RESOURCE_EXHAUSTED" and "sqladmin.googleapis.com" in quota.fix


def test_disabled_api_in_the_legacy_shape_names_the_api_to_enable() -> None:
    error = gexc.Forbidden("Compute Engine API has not been used", errors=[{"reason": "accessNotConfigured"}])
    unknown = unknown_from_error("compute", "c", "p", error)
    assert unknown.reason == "SERVICE_DISABLED"
    assert unknown.fix == "enable the API: gcloud services enable compute.googleapis.com --project p"
