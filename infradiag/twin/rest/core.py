"""What every REST API of the twin shares: routes, calls, page tokens and AIP-158 pagination."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infradiag.twin.google_errors import GoogleError
from infradiag.twin.scenario import Resource

_SEGMENT = r"[^/:]+"

# AIP-158 APIs (Cloud Run v2, VPC Access v1) document no default page size; the twin uses 100 and caps
# requests at 1000.
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Call:
    """One request as a handler sees it."""

    match: re.Match[str]
    query: Mapping[str, str]
    body: Any  # the parsed JSON body, or None

    def relative_name(self) -> str:
        """The path from `projects/` on (after `/v2/`, `/compute/v1/`...): a resource's relative name."""
        path = self.match.group(0)
        return path[path.index("/projects/") + 1 :]


Handler = Callable[[Call], dict[str, Any]]


@dataclass(frozen=True)
class Route:
    """(HTTP method, path pattern) -> (api, RPC, handler); `handler` None marks a refused mutating RPC."""

    api: str
    rpc: str  # may hold `{verb}`, filled from the path
    http_method: str
    pattern: re.Pattern[str]
    handler: Handler | None
    permission: str  # the IAM permission Google checks; may hold `{verb}` too

    def rpc_for(self, match: re.Match[str]) -> str:
        return self.rpc.format(**match.groupdict())

    def permission_for(self, match: re.Match[str]) -> str:
        return self.permission.format(**match.groupdict())


def path_pattern(template: str) -> re.Pattern[str]:
    """`/v2/{parent}/services` style template -> regex; `{x}` matches one path segment."""
    return re.compile(re.sub(r"\{(\w+)\}", lambda m: f"(?P<{m.group(1)}>{_SEGMENT})", template))


@dataclass(frozen=True)
class ApiScope:
    """The paths one API answers: those that start with `prefix`, which ends at a segment boundary."""

    api: str
    prefix: re.Pattern[str]

    def matched_length(self, path: str) -> int | None:
        """How much of `path` the prefix covers, or None when the path is not this API's."""
        match = self.prefix.match(path)
        return None if match is None else match.end()


def api_scopes(path_prefixes: Iterable[tuple[str, str]]) -> tuple[ApiScope, ...]:
    """Scopes from an API module's PATH_PREFIXES, (api, path template) pairs; `{x}` is one segment."""
    return tuple(
        ApiScope(api, re.compile(path_pattern(template).pattern + r"(?=[/:]|$)"))
        for api, template in path_prefixes
    )


def route(
    api: str, rpc: str, http_method: str, template: str, handler: Handler | None, permission: str
) -> Route:
    """A Route from a path template."""
    return Route(api, rpc, http_method, path_pattern(template), handler, permission)


def unimplemented(rpc: str) -> Handler:
    """A read RPC the twin does not answer: UNIMPLEMENTED rather than an invented answer."""

    def handle(call: Call) -> dict[str, Any]:
        raise GoogleError("UNIMPLEMENTED", f"The twin does not implement {rpc}.")

    return handle


def request_fingerprint(*parts: str) -> str:
    """A short digest of the request fields a page token must stay bound to."""
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()[:16]


def encode_token(offset: int, fingerprint: str) -> str:
    """An opaque page token for `offset`, valid only for the request with `fingerprint`."""
    return base64.urlsafe_b64encode(json.dumps({"o": offset, "p": fingerprint}).encode()).decode()


def decode_token(token: str, fingerprint: str) -> int:
    """The offset in `token`; INVALID_ARGUMENT for a token that is garbled or from another request."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        offset = int(data["o"])
    except (binascii.Error, ValueError, KeyError, TypeError):
        raise GoogleError("INVALID_ARGUMENT", "Invalid page token.") from None
    if data.get("p") != fingerprint or offset < 0:
        raise GoogleError("INVALID_ARGUMENT", "The page token does not belong to this request.")
    return offset


def paginate(items: Sequence[Resource], key: str, parent: str, query: Mapping[str, str]) -> dict[str, Any]:
    """One page of `items` as `{key: [...], nextPageToken}` per AIP-158 (pageSize, pageToken)."""
    try:
        size = int(query.get("pageSize") or 0)
    except ValueError:
        raise GoogleError("INVALID_ARGUMENT", "pageSize must be an integer.") from None
    if size < 0:
        raise GoogleError("INVALID_ARGUMENT", "pageSize must not be negative.")
    size = min(size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    token = query.get("pageToken") or ""
    fingerprint = request_fingerprint(parent)
    offset = decode_token(token, fingerprint) if token else 0
    page: dict[str, Any] = {}
    if items[offset : offset + size]:
        page[key] = list(items[offset : offset + size])
    if offset + size < len(items):
        page["nextPageToken"] = encode_token(offset + size, fingerprint)
    return page


def own_project(project: str, project_id: str, project_number: str | None) -> bool:
    """Whether a path's project (id or number) is the scenario's."""
    return project in (project_id, project_number)


@dataclass(frozen=True)
class Collection:
    """AIP-122 resources of one kind, each named `PARENT/KIND/ID`, listed under `response_key`."""

    kind: str  # the path segment before the id, e.g. "services"
    response_key: str
    items: tuple[Resource, ...]

    def parent_of(self, item: Resource) -> str:
        return str(item.get("name", "")).rsplit(f"/{self.kind}/", 1)[0]

    def find(self, name: str) -> Resource | None:
        return next((item for item in self.items if item.get("name") == name), None)

    def get(self, name: str) -> Resource:
        """The resource named `name`, or NOT_FOUND in the AIP-193 shape."""
        item = self.find(name)
        if item is None:
            raise GoogleError("NOT_FOUND", f"Resource '{name}' was not found.")
        return item

    def list(self, parent: str) -> list[Resource]:
        """Resources under `parent`; a `-` segment stands for every parent of that kind (AIP-159), e.g.
        `locations/-`, or `services/-` for the revisions of every service, as Cloud Run v2 documents
        (https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services.revisions/list)."""
        segments = [re.escape(part) if part != "-" else "[^/]+" for part in parent.split("/")]
        pattern = "/".join(segments)
        return [item for item in self.items if re.fullmatch(pattern, self.parent_of(item))]
