"""Turn one gcpdiag test project's captured API responses (`test-data/<project>/json-dumps/`) into a twin
scenario.

Google resources go into the scenario exactly as the dumps hold them: the converter only chooses which
files feed which scenario collection, never edits a resource. What a dump cannot say (the triage region,
`now`, how each Cloud Run service answers HTTP, the findings to expect) comes from the project file,
`tests/corpus/projects/<name>.yaml`; region and `now` are read from the dumps when the file leaves them out.

Usage: python tests/corpus/convert.py <json-dumps dir> <project yaml> > scenario.yaml
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

Json = dict[str, Any]

# Which dump files hold which collection, and where the resources sit in each file. The dumps are the
# bodies gcpdiag's recorder saved from each REST call (tests under gcpdiag's `test-data/*/json-dumps`).
# Monitoring dumps are not mapped: they are MQL `timeSeries:query` answers (timeSeriesDescriptor and
# timeSeriesData), a different API from the timeSeries.list the twin serves, and no faithful mapping exists.
_LIST_FILES: tuple[tuple[str, str, str], ...] = (
    # (file name pattern, scenario collection, key of the items in the body)
    (r"cloudrun_services\.json", "run.services", "services"),
    (r"cloudsql-instances\.json", "sql.instances", "items"),
    (r"compute-effective-firewalls-.+\.json", "compute.firewalls", "firewalls"),
    (r"compute-routers-[a-z]+-[a-z]+\d+\.json", "compute.routers", "items"),
    (r"compute-negs-[a-z]+-[a-z]+\d+-[a-z]\.json", "compute.networkEndpointGroups", "items"),
    (r"healthChecks\.json", "compute.healthChecks", "items"),
    (r"regionHealthChecks-[a-z]+-[a-z]+\d+\.json", "compute.healthChecks", "items"),
    (r"compute-igs-[a-z]+-[a-z]+\d+-[a-z]\.json", "compute.instanceGroups", "items"),
    # A zone's instances may span two captured pages: compute-instances-ZONE.json and ...-ZONE-2.json.
    (r"compute-instances-[a-z]+-[a-z]+\d+-[a-z](?:-\d+)?\.json", "compute.instances", "items"),
)
# Aggregated lists: the items of every scope.
_AGGREGATED_FILES: tuple[tuple[str, str, str], ...] = (
    (r"compute-subnetworks-aggregated\.json", "compute.subnetworks", "subnetworks"),
    (r"compute-aggregated-backendServices\.json", "compute.backendServices", "backendServices"),
    (r"compute-igs-aggregated\.json", "compute.instanceGroups", "instanceGroups"),
    (r"compute-instances-aggregated\.json", "compute.instances", "instances"),
    (r"compute-aggregated-forwardingRules\.json", "compute.forwardingRules", "forwardingRules"),
)
# One resource per file.
# (compute-network-routes.json is a routes.list answer, not a network.)
_SINGLE_FILES: tuple[tuple[str, str], ...] = (
    (r"compute-network-(?!routes\.json).+\.json", "compute.networks"),
)
# backendServices.getHealth answers, one per (backend service, group); gcpdiag names them
# backendService-<service>-get-health-... and regionBackendService-<service>-<region>-get-health-....
_HEALTH_FILE = re.compile(
    r"^(?:backendService-(?P<global>.+?)|regionBackendService-(?P<regional>.+?)-(?P<region>[a-z]+-[a-z]+\d+))"
    r"-get-health-.+\.json$"
)

# routers.getRouterStatus answers, one per router: compute-routers-routerStatus-<router>.json, a
# RouterStatusResponse ({kind, result}; https://cloud.google.com/compute/docs/reference/rest/v1/routers/
# getRouterStatus). The file names the router but not its region.
_ROUTER_STATUS_FILE = re.compile(r"^compute-routers-routerStatus-(?P<router>.+)\.json$")
_REGION_IN_URL = re.compile(r"/regions/([a-z]+-[a-z]+\d+)/")


class ConversionError(ValueError):
    """A dump or project file that cannot become a faithful scenario."""


@dataclass(frozen=True)
class Sourced:
    """One Google resource and the dump file it came from."""

    file: str
    resource: Json


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ConversionError(f"{path}: not JSON ({error})") from error


def _files(dumps: Path, pattern: str, skipped: set[str]) -> Iterator[Path]:
    for path in sorted(dumps.iterdir()):
        if re.fullmatch(pattern, path.name) and path.name not in skipped:
            yield path


def collections(dumps: Path, skipped: set[str]) -> dict[str, list[Sourced]]:
    """Every resource of the collections infradiag reads, by scenario collection ("compute.firewalls"),
    each as the dump holds it; files named in `skipped` are left out. A resource found in two files (the
    same selfLink or name) is kept once when both copies are equal, and is an error when they differ."""
    found: dict[str, list[Sourced]] = {}

    def add(collection: str, file: str, resource: Json) -> None:
        key = resource.get("selfLink") or resource.get("name")
        bucket = found.setdefault(collection, [])
        for earlier in bucket:
            if (earlier.resource.get("selfLink") or earlier.resource.get("name")) == key:
                if earlier.resource != resource:
                    # Two captures taken at different times: which one the scenario holds is the project
                    # file's choice (skipFiles), never a merge.
                    raise ConversionError(
                        f"{key} differs between {earlier.file} and {file}: name one of them in skipFiles"
                    )
                return
        bucket.append(Sourced(file, resource))

    for pattern, collection, key in _LIST_FILES:
        for path in _files(dumps, pattern, skipped):
            for resource in _read(path).get(key, []):
                add(collection, path.name, resource)
    for pattern, collection, key in _AGGREGATED_FILES:
        for path in _files(dumps, pattern, skipped):
            for scoped in _read(path).get("items", {}).values():
                for resource in scoped.get(key, []):
                    add(collection, path.name, resource)
    for pattern, collection in _SINGLE_FILES:
        for path in _files(dumps, pattern, skipped):
            add(collection, path.name, _read(path))
    return found


def backend_health(dumps: Path, skipped: set[str]) -> dict[str, Json]:
    """The getHealth answers, keyed as the twin's compute.backendServiceHealth takes them: the backend
    service's scope and name (`global/backendServices/S`, `regions/R/backendServices/S`), without `kind`,
    which the twin adds as Google does."""
    health: dict[str, Json] = {}
    for path in sorted(dumps.iterdir()):
        match = _HEALTH_FILE.match(path.name)
        if match is None or path.name in skipped:
            continue
        body = {k: v for k, v in _read(path).items() if k != "kind"}
        if match["global"]:
            key = f"global/backendServices/{match['global']}"
        else:
            key = f"regions/{match['region']}/backendServices/{match['regional']}"
        if key in health and health[key] != body:
            raise ConversionError(f"{key}: two different getHealth answers; the twin keeps one per service")
        health[key] = body
    return health


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


def router_status(dumps: Path, skipped: set[str], routers: list[Sourced]) -> list[Json]:
    """The getRouterStatus answers as the twin's compute.routerStatus takes them: `{router, region, result}`
    with `result` the captured RouterStatus as it is. The region is that of the captured router of that
    name; when routers of that name exist in several regions, the one region the status's own URLs (its
    NAT IPs' address resources) name among them. A status of no captured router, or whose region cannot be
    told, is an error: name its file in skipFiles."""
    regions_of: dict[str, set[str]] = {}
    for item in routers:
        region = str(item.resource.get("region", "")).rstrip("/").rsplit("/", 1)[-1]
        regions_of.setdefault(str(item.resource.get("name")), set()).add(region)
    entries: list[Json] = []
    for path in sorted(dumps.iterdir()):
        match = _ROUTER_STATUS_FILE.match(path.name)
        if match is None or path.name in skipped:
            continue
        router = match["router"]
        result = _read(path).get("result", {})
        candidates = regions_of.get(router, set())
        if len(candidates) > 1:
            named = {m for text in _strings(result) for m in _REGION_IN_URL.findall(text)}
            candidates = candidates & named
        if len(candidates) != 1:
            raise ConversionError(
                f"{path.name}: cannot tell which captured router {router!r} it is the status of "
                f"(regions: {sorted(regions_of.get(router, set())) or 'none'}): name it in skipFiles"
            )
        entries.append({"router": router, "region": candidates.pop(), "result": result})
    return entries


def project_number(dumps: Path) -> str | None:
    """The project number, from Resource Manager's project.json (`name: projects/NUMBER`)."""
    path = dumps / "project.json"
    if not path.exists():
        return None
    name = str(_read(path).get("name", ""))
    return name.removeprefix("projects/") if name.startswith("projects/") else None


def project_id(dumps: Path, found: dict[str, list[Sourced]]) -> str:
    """The project id, from project.json, else from the first resource naming a project."""
    path = dumps / "project.json"
    if path.exists():
        return str(_read(path)["projectId"])
    for items in found.values():
        for item in items:
            text = str(item.resource.get("selfLink") or item.resource.get("name") or "")
            match = re.search(r"projects/([a-z][-a-z0-9]+)/", text)
            if match:
                return match.group(1)
    raise ConversionError(f"{path}: no project.json and no resource names the project")


# Timestamps Google sets on the resources infradiag reads (Compute's creationTimestamp, Cloud Run's and Cloud
# SQL's createTime/updateTime, conditions' lastTransitionTime).
_TIMESTAMP_KEYS = ("creationTimestamp", "createTime", "updateTime", "lastTransitionTime")


def _timestamps(value: Any) -> Iterator[datetime]:
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in _TIMESTAMP_KEYS and isinstance(inner, str):
                yield datetime.fromisoformat(inner.replace("Z", "+00:00"))
            else:
                yield from _timestamps(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _timestamps(inner)


def capture_time(found: dict[str, list[Sourced]]) -> str | None:
    """A `now` for the scenario when the project file gives none: one minute after the latest timestamp of
    the captured resources (the capture came after it), in UTC; None when they carry no timestamp."""
    latest = max(
        (t for items in found.values() for item in items for t in _timestamps(item.resource)), default=None
    )
    if latest is None:
        return None
    return (
        (latest.astimezone(UTC) + timedelta(minutes=1)).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    )


def capture_region(found: dict[str, list[Sourced]]) -> str | None:
    """A region for the scenario when the project file gives none: the location of the first Cloud Run
    service, else the region of the first Cloud SQL instance; None otherwise."""
    for item in found.get("run.services", []):
        return str(item.resource["name"]).split("/")[3]
    for item in found.get("sql.instances", []):
        if item.resource.get("region"):
            return str(item.resource["region"])
    return None


def load_project(path: Path) -> Json:
    """A project file: corpusProject, and optionally region, now, endpoints, skipFiles, knownFailing, expect,
    firewallVerdicts."""
    data = yaml.safe_load(path.read_text())
    if not isinstance(data, dict) or "corpusProject" not in data:
        raise ConversionError(f"{path}: a project file is a mapping with at least corpusProject")
    return data


def scenario(dumps: Path, project: Json) -> Json:
    """The twin scenario (a mapping, ready for YAML) of one json-dumps directory and its project file."""
    skipped = set((project.get("skipFiles") or {}).keys())
    found = collections(dumps, skipped)
    document: Json = {
        "apiVersion": "infradiag/twin-v1",
        "name": f"corpus-{project['corpusProject']}",
        "summary": project.get("summary") or f"gcpdiag test project {project['corpusProject']}",
        "project": project_id(dumps, found),
    }
    number = project_number(dumps)
    if number is not None:
        document["projectNumber"] = number
    region = project.get("region") or capture_region(found)
    now = project.get("now") or capture_time(found)
    if region is None or now is None:
        raise ConversionError("the dumps tell neither region nor now: write them in the project file")
    document["region"] = region
    document["now"] = now
    for collection, items in found.items():
        section, name = collection.split(".")
        document.setdefault(section, {})[name] = [item.resource for item in items]
    health = backend_health(dumps, skipped)
    if health:
        document.setdefault("compute", {})["backendServiceHealth"] = health
    statuses = router_status(dumps, skipped, found.get("compute.routers", []))
    if statuses:
        document.setdefault("compute", {})["routerStatus"] = statuses
    if project.get("endpoints"):
        document["endpoints"] = project["endpoints"]
    if project.get("expect"):
        document["expect"] = project["expect"]
    return document


def main(argv: list[str]) -> int:
    """The command line: convert one project and write its scenario YAML to stdout."""
    if len(argv) != 3:
        print(__doc__.strip().splitlines()[-1], file=sys.stderr)
        return 2
    try:
        document = scenario(Path(argv[1]), load_project(Path(argv[2])))
    except ConversionError as error:
        print(f"convert: {error}", file=sys.stderr)
        return 1
    yaml.safe_dump(document, sys.stdout, sort_keys=False, allow_unicode=True, width=120)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
