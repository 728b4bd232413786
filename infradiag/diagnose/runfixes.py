"""The specific fix for a Cloud Run revision that did not become ready, read from its condition message.

Cloud Run explains a failed deployment in the message of the service's `terminalCondition` and of the
revision's `Ready` condition (https://cloud.google.com/run/docs/reference/rest/v2/Condition); the messages
matched here are the ones https://cloud.google.com/run/docs/troubleshooting lists. The table is data: the
first pattern that matches gives the fix, its templates filled with the service, region and project (and
what the pattern captured), so no placeholder is left where the evidence knows the value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunFix:
    """One known failure: a pattern over the condition message, and the fix as templates."""

    kind: str
    pattern: re.Pattern[str]
    summary: str  # str.format templates over service, region, project and the pattern's named groups
    command: str
    docs: str


# The Cloud Run service agent of a project (https://cloud.google.com/run/docs/troubleshooting names it
# service-PROJECT_NUMBER@serverless-robot-prod.iam.gserviceaccount.com). The messages name it with the number;
# when one does not, the command asks gcloud for the number rather than leave a placeholder.
_AGENT = re.compile(r"service-\d+@serverless-robot-prod\.iam\.gserviceaccount\.com")
_AGENT_OF = (
    "service-$(gcloud projects describe {project} --format 'value(projectNumber)')"
    "@serverless-robot-prod.iam.gserviceaccount.com"
)
_GRANT = "gcloud projects add-iam-policy-binding {target} --member serviceAccount:{agent} --role {role}"
_LOGS = (
    'gcloud logging read \'resource.type="cloud_run_revision" AND '
    'resource.labels.service_name="{service}"{where}\' --project {project} --freshness 1h --limit 50'
)

FIXES: tuple[RunFix, ...] = (
    # Checked before the missing role below: this message also names the service agent. Cross-project pulls
    # need the pulling project's Cloud Run service agent to hold a reader role on the image's project
    # (https://cloud.google.com/run/docs/deploying#other-projects).
    RunFix(
        kind="image_pull_denied",
        pattern=re.compile(
            r"must have permission to read the image,?\s+(?P<image>[^\s,]+?)\.?(?:\s|$)"
            r"(?:.*?image is from project \[(?P<image_project>[^\]]+)\])?",
            re.DOTALL,
        ),
        summary=(
            "Grant the Cloud Run service agent of {project}{agent_text} {role} on project {image_project}, "
            "where the image of {service} lives ({image}), then redeploy {service} in {region}"
        ),
        command=_GRANT.replace("{target}", "{image_project}"),
        docs="https://cloud.google.com/run/docs/deploying#other-projects",
    ),
    RunFix(
        kind="image_not_found",
        pattern=re.compile(r"Image '(?P<image>[^']+)' not found"),
        summary=(
            "Image {image} of {service} does not exist: check the image path and tag, push it, and redeploy "
            "{service} in {region}"
        ),
        command="gcloud run deploy {service} --image {image} --region {region} --project {project}",
        docs="https://cloud.google.com/run/docs/troubleshooting",
    ),
    # https://cloud.google.com/run/docs/troubleshooting#container-failed-to-start
    RunFix(
        kind="container_not_listening",
        pattern=re.compile(
            r"failed to start and (?:then )?listen on the port defined.*?PORT(?:=(?P<port>\d+))?",
            re.IGNORECASE | re.DOTALL,
        ),
        summary=(
            "The container of {service} does not listen on $PORT{port_text}: make the app listen on "
            "0.0.0.0:$PORT (the revision's logs say why it does not), then redeploy {service} in {region}"
        ),
        command=_LOGS.format(service="{service}", project="{project}", where=""),
        docs="https://cloud.google.com/run/docs/troubleshooting#container-failed-to-start",
    ),
    # Cloud Run acts through its service agent, which needs roles/run.serviceAgent on the project
    # (https://cloud.google.com/run/docs/troubleshooting, "Cloud Run Service Agent doesn't have permission").
    RunFix(
        kind="service_agent_role_missing",
        pattern=re.compile(
            r"Service Agent.*?(?:does not|doesn't) have (?:the )?(?:permission|role)|roles/run\.serviceAgent",
            re.IGNORECASE | re.DOTALL,
        ),
        summary=(
            "Restore roles/run.serviceAgent to the Cloud Run service agent of {project}{agent_text}, "
            "then redeploy {service} in {region}"
        ),
        command=_GRANT.replace("{target}", "{project}").replace("{role}", "roles/run.serviceAgent"),
        docs="https://cloud.google.com/run/docs/troubleshooting",
    ),
)

GENERIC = RunFix(
    kind="unknown",
    pattern=re.compile(""),
    summary="Fix the failing revision of {service} ({message}) and redeploy",
    command=_LOGS.format(service="{service}", project="{project}", where=" AND severity>=ERROR"),
    docs="https://cloud.google.com/run/docs/troubleshooting",
)


def revision_fix(message: Any, service: Any, region: Any, project: Any) -> dict[str, str]:
    """The fix for a revision that did not become ready with condition `message`: `{kind, summary, command,
    docs}`, from the first entry of FIXES whose pattern occurs in the message, else the generic fix (kind
    "unknown"). Every value names `service`, `region` and `project` where it needs them, and what the
    message names (image, its project, the service agent); never a placeholder for a value known here."""
    text = str(message)
    agent = _AGENT.search(text)
    values = {
        "service": str(service),
        "region": str(region),
        "project": str(project),
        "message": text,
        "agent": agent.group(0) if agent else _AGENT_OF.format(project=project),
        "agent_text": f" ({agent.group(0)})" if agent else "",
    }
    for fix in FIXES:
        match = fix.pattern.search(text)
        if match is None:
            continue
        found = {**values, **{k: v for k, v in match.groupdict().items() if v}}
        image = found.get("image", "")
        # Without "image is from project [...]" the image's project is read from its path.
        found.setdefault("image_project", _image_project(image) or str(project))
        # Every image, gcr.io ones included, is pulled from Artifact Registry: Container Registry shut down
        # on 2025-03-18 and gcr.io URLs are served by Artifact Registry gcr.io repositories
        # (https://cloud.google.com/artifact-registry/docs/transition/setup-gcr-repo), and the Cloud Run
        # Service Agent needs Artifact Registry Reader on the images' project
        # (https://cloud.google.com/artifact-registry/docs/integrate-cloud-run).
        found["role"] = "roles/artifactregistry.reader"
        found["port_text"] = f" ({found['port']})" if "port" in found else ""
        return _render(fix, found)
    return _render(GENERIC, values)


def _image_project(image: str) -> str | None:
    # Artifact Registry: LOCATION-docker.pkg.dev/PROJECT/REPOSITORY/IMAGE, Container Registry:
    # gcr.io/PROJECT/IMAGE (https://cloud.google.com/artifact-registry/docs/docker/names).
    parts = image.split("/")
    return parts[1] if len(parts) > 2 else None


def _render(fix: RunFix, values: dict[str, str]) -> dict[str, str]:
    return {
        "kind": fix.kind,
        "summary": fix.summary.format(**values),
        "command": fix.command.format(**values),
        "docs": fix.docs,
    }
