"""Checks the Google resources of a scenario against the API definitions their clients parse them with.

Each resource is walked along its message descriptor, taken from the official client library (Cloud Run v2
Service, Compute v1 Firewall, Monitoring v3 TimeSeries...), so that what the twin serves is what Google's
clients accept: enum values are names of the enum (Compute's string enums included: a string field with a
sibling enum of the same name, e.g. Firewall.direction / Firewall.Direction), timestamps are RFC 3339,
durations end in "s", label maps hold strings, and at most one member of a oneof is set. Unknown fields are
kept and ignored, as Google's clients do (docs/scenario-format.md); a field written with its proto name
instead of its JSON name (`min_instances` for `minInstances`) is an error, since it would be silently ignored.

On top: the fields the twin needs to place each resource (names, Compute scopes, time series kinds and
points newest first, as TimeSeries and TimeInterval document them).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from infradiag.twin.compute_names import PlacementError, placement
from infradiag.twin.scenario import Google, Scenario
from infradiag.twin.timeseries.values import VALUE_FIELDS

Loc = tuple[str | int, ...]


class ResourceProblem(ValueError):
    """One problem in a scenario: where (a YAML path), what, and what to write instead."""

    def __init__(self, loc: Loc, problem: str, fix: str) -> None:
        super().__init__(problem)
        self.loc = loc
        self.problem = problem
        self.fix = fix


def _google_lists() -> tuple[tuple[Loc, Google], ...]:
    found: list[tuple[Loc, Google]] = []
    for section, field in Scenario.model_fields.items():
        model = field.annotation
        if isinstance(model, type) and issubclass(model, BaseModel):
            for key, item in model.model_fields.items():
                found += [((section, key), marker) for marker in item.metadata if isinstance(marker, Google)]
    return tuple(found)


# Where each kind of resource sits in a scenario, and its message in the official client library: as the
# scenario's sections declare them (scenario.Google).
GOOGLE_LISTS = _google_lists()
LIST_SECTIONS: tuple[tuple[Loc, str, str], ...] = tuple((loc, g.module, g.message) for loc, g in GOOGLE_LISTS)
MAP_SECTIONS: tuple[tuple[Loc, str, str], ...] = (
    (("compute", "backendServiceHealth"), "google.cloud.compute_v1.types", "BackendServiceGroupHealth"),
    (("iam",), "google.iam.v1.policy_pb2", "Policy"),
)

_WRAPPERS = {
    f"google.protobuf.{name}Value"
    for name in ("Double", "Float", "Int64", "UInt64", "Int32", "UInt32", "Bool", "String", "Bytes")
}
_ANYTHING = {
    "google.protobuf.Struct",
    "google.protobuf.Value",
    "google.protobuf.ListValue",
    "google.protobuf.Any",
}
_INTEGER = re.compile(r"^-?\d+$")
_FLOAT_WORDS = ("NaN", "Infinity", "-Infinity")
EXAMPLE_TIME = "2026-09-15T23:06:52Z"


def _descriptor(module: str, message: str) -> Any:
    cls = getattr(importlib.import_module(module), message)
    return cls.pb().DESCRIPTOR if hasattr(cls, "pb") else cls.DESCRIPTOR


def _at(data: Any, loc: Loc) -> Any:
    for part in loc:
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _camel(snake: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in snake.split("_"))


def _enum_names(enum: Any) -> list[str]:
    return [
        v.name
        for v in enum.values
        if not v.name.endswith("_UNSPECIFIED") and not v.name.startswith("UNDEFINED_")
    ]


def _one_of(names: Iterable[str]) -> str:
    shown = list(names)
    more = f" (and {len(shown) - 12} more)" if len(shown) > 12 else ""
    return "write one of " + ", ".join(shown[:12]) + more


def parse_timestamp(text: Any) -> datetime | None:
    """An RFC 3339 instant as protobuf's JSON parser reads it (an offset or Z is required), or None."""
    from google.protobuf.timestamp_pb2 import Timestamp

    if not isinstance(text, str):
        return None
    stamp = Timestamp()
    try:
        stamp.FromJsonString(text)
    except ValueError:
        return None
    instant: datetime = stamp.ToDatetime(tzinfo=UTC)
    return instant


class _Walker:
    """Walks JSON values along message descriptors; raises ResourceProblem at the first bad value."""

    def message(self, value: Any, descriptor: Any, loc: Loc) -> None:
        if not isinstance(value, dict):
            raise ResourceProblem(
                loc, f"expected a mapping (a {descriptor.name}), got {_kind(value)}", "write a mapping"
            )
        by_json = {f.json_name: f for f in descriptor.fields}
        by_name = {f.name: f for f in descriptor.fields}
        for key, item in value.items():
            field = by_json.get(key)
            if field is None:
                named = by_name.get(key)
                if named is not None and named.json_name != key:
                    raise ResourceProblem(
                        (*loc, key),
                        f"`{key}` is the proto name of {descriptor.name}.{named.json_name}",
                        f"write `{named.json_name}`",
                    )
                continue  # unknown fields are kept and ignored
            self.field(item, field, descriptor, (*loc, key))
        for oneof in descriptor.oneofs:
            if len(oneof.fields) == 1 and oneof.name.startswith("_"):
                continue  # proto3 `optional`
            present = [f.json_name for f in oneof.fields if f.json_name in value]
            if len(present) > 1:
                raise ResourceProblem(
                    (*loc, present[1]),
                    f"{', '.join(present)} are alternatives ({descriptor.name}.{oneof.name})",
                    "keep only one of them",
                )

    def field(self, value: Any, field: Any, owner: Any, loc: Loc) -> None:
        if value is None:
            return  # JSON null means the default
        message_type = field.message_type
        if message_type is not None and message_type.GetOptions().map_entry:
            if not isinstance(value, dict):
                raise ResourceProblem(
                    loc, f"expected a mapping, got {_kind(value)}", "write a mapping of keys to values"
                )
            value_field = message_type.fields_by_name["value"]
            for key, item in value.items():
                self.single(item, value_field, message_type, (*loc, key))
            return
        if field.is_repeated:
            if not isinstance(value, list):
                raise ResourceProblem(loc, f"expected a list, got {_kind(value)}", "write a YAML list")
            for index, item in enumerate(value):
                self.single(item, field, owner, (*loc, index))
            return
        self.single(value, field, owner, loc)

    def single(self, value: Any, field: Any, owner: Any, loc: Loc) -> None:
        kind = field.type
        if kind == field.TYPE_MESSAGE:
            self.special_message(value, field.message_type, loc)
        elif kind == field.TYPE_ENUM:
            self.enum(value, field.enum_type, loc)
        elif kind == field.TYPE_STRING:
            if not isinstance(value, str):
                raise ResourceProblem(loc, f"expected a string, got {_kind(value)}", f"quote it: '{value}'")
            self.string_enum(value, field, owner, loc)
        elif kind == field.TYPE_BOOL:
            if not isinstance(value, bool):
                raise ResourceProblem(loc, f"expected true or false, got {value!r}", "write true or false")
        elif kind in (field.TYPE_DOUBLE, field.TYPE_FLOAT):
            if not _is_number(value):
                raise ResourceProblem(loc, f"expected a number, got {value!r}", "write a number such as 0.5")
        elif kind == field.TYPE_BYTES:
            if not isinstance(value, str):
                raise ResourceProblem(loc, f"expected base64 text, got {_kind(value)}", "write base64 text")
        elif not _is_integer(value):
            raise ResourceProblem(
                loc, f"expected an integer, got {value!r}", 'write an integer such as 42 or "42"'
            )

    def special_message(self, value: Any, descriptor: Any, loc: Loc) -> None:
        name = descriptor.full_name
        if name == "google.protobuf.Timestamp":
            if parse_timestamp(value) is None:
                raise ResourceProblem(
                    loc,
                    f"{value!r} is not an RFC 3339 timestamp",
                    f"write an instant with its offset, e.g. {EXAMPLE_TIME}",
                )
        elif name == "google.protobuf.Duration":
            from google.protobuf.duration_pb2 import Duration

            try:
                Duration().FromJsonString(str(value))
            except ValueError:
                raise ResourceProblem(
                    loc, f"{value!r} is not a duration", 'write seconds with an "s", e.g. "300s"'
                ) from None
        elif name == "google.protobuf.FieldMask":
            if not isinstance(value, str):
                raise ResourceProblem(loc, "a field mask is a string", 'write e.g. "displayName,enabled"')
        elif name in _WRAPPERS:
            self.single(value, descriptor.fields_by_name["value"], descriptor, loc)
        elif name not in _ANYTHING:
            self.message(value, descriptor, loc)

    def enum(self, value: Any, enum: Any, loc: Loc) -> None:
        if enum.full_name == "google.protobuf.NullValue":
            return
        if isinstance(value, str) and value in enum.values_by_name:
            return
        if isinstance(value, int) and not isinstance(value, bool) and value in enum.values_by_number:
            return
        raise ResourceProblem(
            loc, f"{value!r} is not a valid {_enum_label(enum)}", _one_of(_enum_names(enum))
        )

    def string_enum(self, value: str, field: Any, owner: Any, loc: Loc) -> None:
        # Compute declares its enums as strings with a sibling enum named after the field.
        if owner.file.package != "google.cloud.compute.v1":
            return
        enum = owner.enum_types_by_name.get(_camel(field.name))
        if enum is not None and value not in enum.values_by_name:
            raise ResourceProblem(
                loc, f"{value!r} is not a valid {_enum_label(enum)}", _one_of(_enum_names(enum))
            )


def _enum_label(enum: Any) -> str:
    owner = enum.containing_type
    return f"{owner.name}.{enum.name}" if owner is not None else str(enum.name)


def _kind(value: Any) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), repr(value)
    )


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, str) and bool(_INTEGER.match(value)))


def _is_number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int | float):
        return True
    if isinstance(value, str):
        if value in _FLOAT_WORDS:
            return True
        try:
            float(value)
        except ValueError:
            return False
        return True
    return False


# ---------------------------------------------------------------------------------------------------------
# What the twin needs beyond the schema
# ---------------------------------------------------------------------------------------------------------


def _require(resource: dict[str, Any], loc: Loc, path: str, fix: str) -> Any:
    value: Any = resource
    for part in path.split("."):
        if not isinstance(value, dict) or value.get(part) in (None, ""):
            raise ResourceProblem(loc, f"`{path}` is required", fix)
        value = value[part]
    return value


def _full_name(resource: dict[str, Any], loc: Loc, pattern: str, example: str) -> None:
    name = _require(resource, loc, "name", f"add `name: {example}`")
    if not re.fullmatch(pattern, str(name)):
        raise ResourceProblem(
            (*loc, "name"), f"name {name!r} is not a full resource name", f"write {example}"
        )


def _check_points(series: dict[str, Any], loc: Loc, now: datetime) -> None:
    """TimeSeries points per https://cloud.google.com/monitoring/api/ref_v3/rest/v3/TimeInterval: a GAUGE
    point's start is absent or equals its end; DELTA and CUMULATIVE points span a non-zero interval, DELTA
    intervals do not overlap; the value field matches valueType; points come newest first."""
    kind, value_type = series["metricKind"], series["valueType"]
    value_field = VALUE_FIELDS.get(value_type)
    previous: tuple[datetime, datetime] | None = None
    for index, point in enumerate(series.get("points") or []):
        here: Loc = (*loc, "points", index)
        end = parse_timestamp(
            _require(point, here, "interval.endTime", f"add interval.endTime, e.g. {EXAMPLE_TIME}")
        )
        assert end is not None  # the schema walk has parsed it
        raw_start = (point.get("interval") or {}).get("startTime")
        start = end if raw_start is None else parse_timestamp(raw_start)
        assert start is not None
        if kind == "GAUGE" and start != end:
            raise ResourceProblem(
                (*here, "interval"),
                "a GAUGE point is a point in time",
                "give it no startTime, or startTime = endTime",
            )
        if kind in ("DELTA", "CUMULATIVE") and not start < end:
            raise ResourceProblem(
                (*here, "interval"),
                f"a {kind} point needs startTime before endTime",
                "make the interval non-empty",
            )
        if end > now:
            raise ResourceProblem(
                (*here, "interval", "endTime"),
                "the point ends after the scenario's `now`",
                "move it to or before `now`",
            )
        if value_field is not None and value_field not in (point.get("value") or {}):
            raise ResourceProblem(
                (*here, "value"),
                f"a {value_type} point needs value.{value_field}",
                f"write value: {{{value_field}: ...}}",
            )
        if previous is not None:
            if end >= previous[1]:
                raise ResourceProblem(
                    (*here, "interval", "endTime"),
                    "points must come newest first",
                    "order the points by endTime, newest first",
                )
            if kind == "DELTA" and end > previous[0]:
                raise ResourceProblem(
                    (*here, "interval"),
                    "DELTA intervals overlap",
                    "make each interval end where the newer one starts, or earlier",
                )
        previous = (start, end)


def _check_series(series: dict[str, Any], loc: Loc, now: datetime) -> None:
    _require(
        series, loc, "metric.type", "add metric: {type: METRIC_TYPE}, e.g. run.googleapis.com/request_count"
    )
    _require(series, loc, "resource.type", "add resource: {type: RESOURCE_TYPE}, e.g. cloud_run_revision")
    _require(series, loc, "metricKind", "add metricKind: GAUGE, DELTA or CUMULATIVE")
    _require(series, loc, "valueType", "add valueType: INT64, DOUBLE, BOOL, STRING or DISTRIBUTION")
    _check_points(series, loc, now)


def _checks(
    project: str, number: str | None, now: datetime
) -> dict[Loc, Callable[[dict[str, Any], Loc], None]]:
    owners = "|".join(re.escape(p) for p in (project, number) if p)
    named = {loc: _name_check(g.name, owners, project) for loc, g in GOOGLE_LISTS if g.name is not None}
    return {
        **named,
        ("sql", "instances"): lambda r, loc: _require(r, loc, "name", "add `name: INSTANCE_ID`"),
        # A hierarchical policy's name is its numeric id (https://cloud.google.com/compute/docs/reference/
        # rest/v1/firewallPolicies); the twin serves it with its shortName as getEffectiveFirewalls does.
        ("compute", "hierarchicalFirewallPolicies"): _check_hierarchical,
        ("monitoring", "timeSeries"): lambda r, loc: _check_series(r, loc, now),
        ("monitoring", "alertPolicies"): lambda r, loc: _require(
            r, loc, "name", f"add `name: projects/{project}/alertPolicies/ID`"
        ),
    }


def _name_check(form: str, owners: str, project: str) -> Callable[[dict[str, Any], Loc], None]:
    """A check that a resource's name has `form` (scenario.Google.name)."""
    pattern = re.sub(r"[A-Z][A-Z_]*", "[^/]+", re.escape(form).replace(r"\{project\}", f"(?:{owners})"))
    example = form.replace("{project}", project)
    return lambda r, loc: _full_name(r, loc, pattern, example)


def _check_hierarchical(resource: dict[str, Any], loc: Loc) -> None:
    name = _require(resource, loc, "name", "add `name: POLICY_ID`, the policy's numeric id")
    if not re.fullmatch(r"[0-9]+", str(name)):
        raise ResourceProblem(
            (*loc, "name"),
            f"name {name!r} is not a hierarchical firewall policy's numeric id",
            "write the id as `name` and the readable name as `shortName`",
        )
    _require(resource, loc, "shortName", "add `shortName`, the name people give the policy")


# Scenario collections under `compute` that are not project resources placed by scope.
NOT_PLACED = ("hierarchicalFirewallPolicies",)


def _check_compute(
    resource: dict[str, Any], collection: str, loc: Loc, project: str, number: str | None
) -> None:
    try:
        where = placement(resource, collection)
    except PlacementError as error:
        raise ResourceProblem(
            (*loc, error.key) if error.key in resource else loc, error.problem, error.fix
        ) from None
    if where.project is not None and where.project not in (project, number):
        raise ResourceProblem(
            (*loc, "selfLink"),
            f"the selfLink names project {where.project}; the twin serves {project} only",
            f"write projects/{project}/... in the selfLink",
        )


def _identity(resource: dict[str, Any], loc: Loc, project: str, number: str | None) -> str | None:
    """What names `resource` uniquely in its collection, as Google names it; None for what has no name
    (time series). Compute names are unique per scope (https://cloud.google.com/compute/docs/naming-resources:
    a regional subnetwork's name may recur in another region); the others carry their full name, with the
    project number read as the project id."""
    if loc == ("monitoring", "timeSeries"):
        return None
    if loc[0] == "compute" and loc[1] not in NOT_PLACED:
        where = placement(resource, str(loc[1]))
        return f"{where.scope}/{where.name}"
    name = str(resource.get("name", ""))
    return name.replace(f"projects/{number}/", f"projects/{project}/", 1) if number else name


def _check_unique(items: list[Any], loc: Loc, project: str, number: str | None) -> None:
    # A collection never lists two resources with one name (AIP-122: a name identifies one resource,
    # https://google.aip.dev/122); the twin would serve the first and hide the second.
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        key = _identity(item, loc, project, number)
        if key is None:
            continue
        first = seen.setdefault(key, index)
        if first != index:
            place = ".".join(str(part) for part in loc)
            raise ResourceProblem(
                (*loc, index, "name"),
                f"{item.get('name')!r} is defined twice in {place} (first at {place}.{first}); "
                "Google never returns two resources with one name",
                "rename one of them or remove the duplicate",
            )


def _check_router_status(data: dict[str, Any], walker: _Walker) -> None:
    """compute.routerStatus: each `result` a RouterStatus as google-cloud-compute parses it, for a router of
    compute.routers in the region named, at most one per router."""
    entries = _at(data, ("compute", "routerStatus")) or []
    if not entries:
        return
    descriptor = _descriptor("google.cloud.compute_v1.types", "RouterStatus")
    routers = set()
    for router in _at(data, ("compute", "routers")) or []:
        where = placement(router, "routers")  # already checked as a compute.routers resource
        routers.add((where.scope, where.name))
    seen: dict[tuple[str, str], int] = {}
    for index, entry in enumerate(entries):
        loc: Loc = ("compute", "routerStatus", index)
        walker.message(entry["result"], descriptor, (*loc, "result"))
        key = (f"regions/{str(entry['region']).rstrip('/').rsplit('/', 1)[-1]}", str(entry["router"]))
        if key not in routers:
            raise ResourceProblem(
                (*loc, "router"),
                f"no router {key[1]!r} in {key[0]} among compute.routers",
                "name a router of compute.routers and its region",
            )
        first = seen.setdefault(key, index)
        if first != index:
            raise ResourceProblem(
                (*loc, "router"),
                f"router {key[1]!r} has a status already (compute.routerStatus.{first})",
                "keep one status per router",
            )


def check_resources(data: dict[str, Any], project: str, number: str | None, now: datetime) -> None:
    """Raise ResourceProblem for the first bad Google resource of a scenario (validated scenario `data`),
    including a second resource with the name of another in the same collection."""
    walker = _Walker()
    checks = _checks(project, number, now)
    for loc, module, message in LIST_SECTIONS:
        items = _at(data, loc) or []
        if not items:
            continue
        descriptor = _descriptor(module, message)
        for index, item in enumerate(items):
            walker.message(item, descriptor, (*loc, index))
            if loc in checks:
                checks[loc](item, (*loc, index))
            if loc[0] == "compute" and loc[1] not in NOT_PLACED:
                _check_compute(item, str(loc[1]), (*loc, index), project, number)
        _check_unique(items, loc, project, number)
    for loc, module, message in MAP_SECTIONS:
        entries = _at(data, loc) or {}
        if entries:
            descriptor = _descriptor(module, message)
            for key, value in entries.items():
                walker.message(value, descriptor, (*loc, key))
    _check_router_status(data, walker)
