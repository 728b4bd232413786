"""The specific fix for a revision that did not become ready, from Cloud Run's condition message.

The messages are Cloud Run's own wording (https://cloud.google.com/run/docs/troubleshooting and
https://cloud.google.com/run/docs/deploying#other-projects), with this fleet's names in them.
"""

from __future__ import annotations

import re

import pytest

from infradiag.diagnose.playbook_functions import PLAYBOOK_CEL
from infradiag.diagnose.runfixes import revision_fix

AGENT = "service-123456789012@serverless-robot-prod.iam.gserviceaccount.com"
IMAGE = "us-docker.pkg.dev/acme-shared/apps/billing:2026-09-15"
PULL_DENIED = " ".join(
    [
        "Revision 'billing-00001-abc' is not ready and cannot serve traffic.",
        f"Google Cloud Run Service Agent {AGENT} must have permission to read the image, {IMAGE}.",
        "Ensure that the provided container image URL is correct and that the above account has permission",
        "to access the image. If you just enabled the Cloud Run API, the permissions might take a few",
        "minutes",
        "to propagate. Note that the image is from project [acme-shared], which is not the same as this",
        "project [acme-staging]. Permission must be granted to the Google Cloud Run Service Agent from this",
        "project.",
    ]
)
NOT_LISTENING = (
    "Revision 'admin-00043-xyz' is not ready and cannot serve traffic. The user-provided container failed to "
    "start and listen on the port defined provided by the PORT=8080 environment variable."
)
# Placeholders Google's docs write where a value goes; a fix must never hand one back.
PLACEHOLDER = re.compile(r"PROJECT_NUMBER|PROJECT_ID|SERVICE_NAME|\bREGION\b|\bIMAGE\b|\{\w+\}")


def fix(message: str) -> dict[str, str]:
    return revision_fix(message, "billing", "us-central1", "acme-staging")


def test_a_cross_project_pull_grants_the_reader_role_on_the_image_project_to_the_service_agent() -> None:
    got = fix(PULL_DENIED)
    assert got["kind"] == "image_pull_denied"
    assert got["command"] == (
        f"gcloud projects add-iam-policy-binding acme-shared --member serviceAccount:{AGENT} "
        "--role roles/artifactregistry.reader"
    )
    assert "billing" in got["summary"] and "us-central1" in got["summary"] and IMAGE in got["summary"]


def test_a_gcr_io_image_is_read_with_the_artifact_registry_role() -> None:
    """gcr.io is served by Artifact Registry since Container Registry shut down (2025-03-18)."""
    message = PULL_DENIED.replace(IMAGE, "gcr.io/acme-shared/billing:1")
    got = fix(message)["command"]
    assert got.startswith("gcloud projects add-iam-policy-binding acme-shared ")
    assert got.endswith("--role roles/artifactregistry.reader")


def test_an_image_that_does_not_exist_is_pushed_and_redeployed() -> None:
    got = fix(f"Image '{IMAGE}' not found.")
    assert got["kind"] == "image_not_found"
    assert (
        got["command"]
        == f"gcloud run deploy billing --image {IMAGE} --region us-central1 --project acme-staging"
    )


@pytest.mark.parametrize(
    "message",
    [
        NOT_LISTENING,
        "Container failed to start. Failed to start and then listen on the port defined by the PORT "
        "environment variable.",
    ],
)
def test_a_container_not_listening_on_port_is_told_to_listen_on_port(message: str) -> None:
    got = fix(message)
    assert got["kind"] == "container_not_listening"
    assert "$PORT" in got["summary"]
    assert 'service_name="billing"' in got["command"] and "--project acme-staging" in got["command"]


def test_the_port_of_the_message_is_named() -> None:
    assert "(8080)" in fix(NOT_LISTENING)["summary"]


def test_a_service_agent_without_its_role_gets_it_back() -> None:
    got = fix("Cloud Run Service Agent does not have permission to manage resources of this project.")
    assert got["kind"] == "service_agent_role_missing"
    assert got["command"].startswith(
        "gcloud projects add-iam-policy-binding acme-staging --member serviceAccount:"
    )
    assert got["command"].endswith("--role roles/run.serviceAgent")


def test_an_unknown_message_gets_the_generic_fix_quoting_it() -> None:
    got = fix("Something nobody has seen before.")
    assert got["kind"] == "unknown"
    assert (
        got["summary"]
        == "Fix the failing revision of billing (Something nobody has seen before.) and redeploy"
    )


@pytest.mark.parametrize(
    "message",
    [
        PULL_DENIED,
        NOT_LISTENING,
        f"Image '{IMAGE}' not found.",
        "Cloud Run Service Agent does not have the role",
    ],
)
def test_no_fix_leaves_a_placeholder(message: str) -> None:
    got = fix(message)
    for text in (got["summary"], got["command"]):
        assert PLACEHOLDER.search(text) is None, text


def test_playbooks_call_it_from_cel() -> None:
    expression = PLAYBOOK_CEL.compile_expression(
        "revision_fix(m, 'billing', 'us-central1', 'acme-staging').kind"
    )
    assert expression.evaluate({"m": PULL_DENIED}) == "image_pull_denied"
