"""Renderings of a Change: the gcloud command and the Terraform resource block, both from the same request.

One `Method` per (api, method) says which fields a change may set, which current settings its renderings
need, which fields the API wants sent together, and how each field maps to a gcloud flag and a Terraform
attribute. Every gcloud flag here is one of the installed gcloud's command tree (tests/fixes checks them);
every Terraform attribute is the google provider's.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infradiag.fixes.model import Change, FieldChange, Risk


@dataclass(frozen=True)
class Method:
    """What infradiag knows of one API method: enough to build, check and render its Changes."""

    api: str
    method: str
    resource: re.Pattern[str]  # the full resource name, with named groups project, region, name
    fields: frozenset[str]  # fields a change may set (dotted, Google's camelCase)
    context: frozenset[str]  # current settings the renderings may use
    # Fields the API wants sent together: when one changes, the others are carried at their current value.
    together: tuple[frozenset[str], ...] = ()
    update_mask: bool = True  # whether the request takes an updateMask
    gcloud: Callable[[Change, dict[str, str]], str] = field(default=lambda c, n: "")
    terraform: Callable[[Change, dict[str, str]], str] = field(default=lambda c, n: "")

    def names(self, resource: str) -> dict[str, str]:
        """The parts of a resource name (project, region, name); ValueError when it is not this method's."""
        match = self.resource.fullmatch(resource)
        if match is None:
            raise ValueError(f"{resource!r} is not a resource of {self.api} {self.method}")
        return {k: v for k, v in match.groupdict().items() if v is not None}


def _flag(name: str, value: Any) -> str:
    return f"{name} {shlex.quote(str(value))}"


def _hcl_string(value: Any) -> str:
    # A JSON string is an HCL string once interpolation and template directives are escaped.
    return json.dumps(str(value)).replace("${", "$${").replace("%{", "%%{")


def _hcl_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_hcl_value(item) for item in value) + "]"
    return _hcl_string(value)


def _attributes(pairs: list[tuple[str, Any, str]], indent: str) -> list[str]:
    """`name = value` lines aligned as `terraform fmt` aligns them; a note becomes a trailing comment."""
    width = max((len(name) for name, _, _ in pairs), default=0)
    return [
        f"{indent}{name.ljust(width)} = {_hcl_value(value)}" + (f" # {note}" if note else "")
        for name, value, note in pairs
    ]


def _regional_update(command: str, names: dict[str, str]) -> list[str]:
    """The start of a gcloud update of a regional resource: the command, the resource's name, --region and
    --project, each value shell-quoted."""
    return [
        command,
        shlex.quote(names["name"]),
        _flag("--region", names["region"]),
        _flag("--project", names["project"]),
    ]


def _sent_flags(sent: dict[str, Any], flags: tuple[tuple[str, str], ...]) -> list[str]:
    """`FLAG VALUE` for each (field path, gcloud flag) whose field the request sends, in that order."""
    return [_flag(flag, sent[path]) for path, flag in flags if path in sent]


def _settings(change: Change, attributes: tuple[tuple[str, str], ...]) -> list[tuple[str, Any, str]]:
    """The Terraform (attribute, value, note) of each (attribute, field path) the change has a value for, in
    that order; a changed field notes what it was."""
    return [
        (attribute, change.value(path), _was(change, path))
        for attribute, path in attributes
        if change.value(path) is not None
    ]


def _was(change: Change, path: str) -> str:
    for item in change.changes:
        if item.field == path:
            return "not set before" if item.current is None else f"was {_plain(item.current)}"
    return ""


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


# --- Serverless VPC Access: projects.locations.connectors.patch -------------------------------------------


def _connector_gcloud(change: Change, names: dict[str, str]) -> str:
    parts = _regional_update("gcloud compute networks vpc-access connectors update", names)
    # gcloud wants --min-instances and --max-instances together (`connectors update --help`).
    parts += _sent_flags(
        change.sent(),
        (
            ("minInstances", "--min-instances"),
            ("maxInstances", "--max-instances"),
            ("machineType", "--machine-type"),
        ),
    )
    return " ".join(parts)


def _connector_terraform(change: Change, names: dict[str, str]) -> str:
    pairs: list[tuple[str, Any, str]] = [
        ("name", names["name"], ""),
        ("project", names["project"], ""),
        ("region", names["region"], ""),
    ]
    subnet = change.value("subnet.name")
    if subnet is None:
        pairs += [
            (attribute, change.value(path), "")
            for attribute, path in (("network", "network"), ("ip_cidr_range", "ipCidrRange"))
            if change.value(path) is not None
        ]
    pairs += _settings(
        change,
        (
            ("machine_type", "machineType"),
            ("min_instances", "minInstances"),
            ("max_instances", "maxInstances"),
        ),
    )
    lines = [f'resource "google_vpc_access_connector" {_hcl_string(_tf_name(names["name"]))} {{']
    lines += _attributes(pairs, "  ")
    if subnet is not None:
        lines += ["  subnet {", *_attributes([("name", subnet, "")], "    "), "  }"]
    lines.append("}")
    return "\n".join(lines)


# --- Cloud SQL Admin: instances.patch ----------------------------------------------------------------------


def _flags_argument(flags: list[dict[str, Any]]) -> str:
    """`--database-flags` as gcloud parses it: NAME=VALUE pairs (a flag without value by its name alone),
    comma-separated, or with another delimiter when a value holds a comma (`gcloud topic escaping`)."""
    items = [f"{f['name']}={f['value']}" if f.get("value") is not None else str(f["name"]) for f in flags]
    joined = ",".join(items)
    if any("," in item for item in items):
        delimiter = next(d for d in ":;|#@~" if not any(d in item for item in items))
        joined = f"^{delimiter}^" + delimiter.join(items)
    return _flag("--database-flags", joined)


def _sql_gcloud(change: Change, names: dict[str, str]) -> str:
    parts = ["gcloud sql instances patch", shlex.quote(names["name"]), _flag("--project", names["project"])]
    sent = change.sent()
    parts += _sent_flags(
        sent, (("settings.tier", "--tier"), ("settings.activationPolicy", "--activation-policy"))
    )
    if "settings.databaseFlags" in sent:
        flags = sent["settings.databaseFlags"]
        parts.append(_flags_argument(flags) if flags else "--clear-database-flags")
    return " ".join(parts)


def _sql_terraform(change: Change, names: dict[str, str]) -> str:
    pairs: list[tuple[str, Any, str]] = [
        ("name", names["name"], ""),
        ("project", names["project"], ""),
    ]
    pairs += [
        (attribute, change.value(path), "")
        for attribute, path in (("region", "region"), ("database_version", "databaseVersion"))
        if change.value(path) is not None
    ]
    settings = _settings(
        change, (("tier", "settings.tier"), ("activation_policy", "settings.activationPolicy"))
    )
    lines = [f'resource "google_sql_database_instance" {_hcl_string(_tf_name(names["name"]))} {{']
    lines += _attributes(pairs, "  ")
    lines += ["", "  settings {", *_attributes(settings, "    ")]
    for flag in change.value("settings.databaseFlags") or []:
        entry = [("name", flag["name"], "")]
        if flag.get("value") is not None:
            entry.append(("value", flag["value"], ""))
        lines += ["    database_flags {", *_attributes(entry, "      "), "    }"]
    lines += ["  }", "}"]
    return "\n".join(lines)


# --- Cloud Run Admin v2: projects.locations.services.patch ------------------------------------------------

_RUN_SCALING = (
    ("template.scaling.minInstanceCount", "--min-instances", "min_instance_count"),
    ("template.scaling.maxInstanceCount", "--max-instances", "max_instance_count"),
)


# The v2 API's ingress enum as gcloud's --ingress names it (`gcloud run services update --help`); gcloud has
# no value for INGRESS_TRAFFIC_NONE.
RUN_INGRESS_FLAGS = {
    "INGRESS_TRAFFIC_ALL": "all",
    "INGRESS_TRAFFIC_INTERNAL_ONLY": "internal",
    "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER": "internal-and-cloud-load-balancing",
}


def _run_gcloud(change: Change, names: dict[str, str]) -> str:
    parts = _regional_update("gcloud run services update", names)
    sent = change.sent()
    parts += _sent_flags(sent, tuple((path, flag) for path, flag, _ in _RUN_SCALING))
    if "ingress" in sent:
        parts.append(_flag("--ingress", RUN_INGRESS_FLAGS[sent["ingress"]]))
    return " ".join(parts)


def _run_terraform(change: Change, names: dict[str, str]) -> str:
    pairs: list[tuple[str, Any, str]] = [
        ("name", names["name"], ""),
        ("location", names["region"], ""),
        ("project", names["project"], ""),
    ]
    pairs += _settings(change, (("ingress", "ingress"),))
    scaling = _settings(change, tuple((attribute, path) for path, _, attribute in _RUN_SCALING))
    lines = [f'resource "google_cloud_run_v2_service" {_hcl_string(_tf_name(names["name"]))} {{']
    lines += _attributes(pairs, "  ")
    if scaling:
        lines += ["", "  template {", "    scaling {", *_attributes(scaling, "      "), "    }", "  }"]
    lines.append("}")
    return "\n".join(lines)


# --- Cloud Monitoring: projects.alertPolicies.create ------------------------------------------------------


def _alert_gcloud(change: Change, names: dict[str, str]) -> str:
    # --policy takes the AlertPolicy as JSON (https://cloud.google.com/sdk/gcloud/reference/monitoring/
    # policies/create, GA): the request body itself, so the command creates exactly the typed change. Older
    # SDKs (528) have it in the alpha track only, with the same flags (tools/gcloud_table.py, PROMOTED).
    body = json.dumps(change.body(), separators=(",", ":"))
    return " ".join(
        [
            "gcloud monitoring policies create",
            _flag("--project", names["project"]),
            _flag("--policy", body),
        ]
    )


def _alert_terraform(change: Change, names: dict[str, str]) -> str:
    sent = change.sent()
    label = _tf_name(re.sub(r"[^A-Za-z0-9_-]", "_", str(sent.get("displayName", "alert"))))
    pairs: list[tuple[str, Any, str]] = [
        ("project", names["project"], ""),
        ("display_name", sent.get("displayName"), ""),
        ("combiner", sent.get("combiner"), ""),
    ]
    if sent.get("notificationChannels"):
        pairs.append(("notification_channels", sent["notificationChannels"], ""))
    lines = [f'resource "google_monitoring_alert_policy" {_hcl_string(label)} {{']
    lines += _attributes([p for p in pairs if p[1] is not None], "  ")
    for condition in sent.get("conditions") or []:
        threshold = condition["conditionThreshold"]
        lines += [
            "",
            "  conditions {",
            *_attributes([("display_name", condition["displayName"], "")], "    "),
        ]
        lines += ["    condition_threshold {"]
        lines += _attributes(
            [
                ("filter", threshold["filter"], ""),
                ("comparison", threshold["comparison"], ""),
                ("threshold_value", threshold["thresholdValue"], ""),
                ("duration", threshold["duration"], ""),
            ],
            "      ",
        )
        for aggregation in threshold.get("aggregations", []):
            entry = [
                (attribute, aggregation[key], "")
                for attribute, key in (
                    ("alignment_period", "alignmentPeriod"),
                    ("per_series_aligner", "perSeriesAligner"),
                    ("cross_series_reducer", "crossSeriesReducer"),
                    ("group_by_fields", "groupByFields"),
                )
                if key in aggregation
            ]
            lines += ["      aggregations {", *_attributes(entry, "        "), "      }"]
        if "trigger" in threshold:
            count = [("count", threshold["trigger"]["count"], "")]
            lines += ["      trigger {", *_attributes(count, "        "), "      }"]
        lines += ["    }", "  }"]
    lines.append("}")
    return "\n".join(lines)


def _tf_name(name: str) -> str:
    # Terraform local names cannot hold hyphens; the usual one swaps them for underscores.
    return name.replace("-", "_")


METHODS: dict[tuple[str, str], Method] = {
    (m.api, m.method): m
    for m in (
        Method(
            api="vpcaccess",
            method="projects.locations.connectors.patch",
            resource=re.compile(
                r"projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/connectors/(?P<name>[^/]+)"
            ),
            fields=frozenset({"minInstances", "maxInstances", "machineType"}),
            context=frozenset({"network", "ipCidrRange", "subnet.name"}),
            together=(frozenset({"minInstances", "maxInstances"}),),
            gcloud=_connector_gcloud,
            terraform=_connector_terraform,
        ),
        Method(
            api="sqladmin",
            method="instances.patch",
            resource=re.compile(r"projects/(?P<project>[^/]+)/instances/(?P<name>[^/]+)"),
            fields=frozenset({"settings.tier", "settings.activationPolicy", "settings.databaseFlags"}),
            context=frozenset({"region", "databaseVersion", "settings.tier", "settings.databaseFlags"}),
            # instances.patch has no updateMask: the fields present in the body are the ones it changes, and
            # a list (databaseFlags) is replaced whole.
            update_mask=False,
            gcloud=_sql_gcloud,
            terraform=_sql_terraform,
        ),
        Method(
            api="run",
            method="projects.locations.services.patch",
            # PATCH v2/{service.name} with an updateMask
            # (https://cloud.google.com/run/docs/reference/rest/v2/projects.locations.services/patch): a
            # template change deploys a new revision.
            resource=re.compile(
                r"projects/(?P<project>[^/]+)/locations/(?P<region>[^/]+)/services/(?P<name>[^/]+)"
            ),
            fields=frozenset({"ingress", *(path for path, _, _ in _RUN_SCALING)}),
            context=frozenset(),
            gcloud=_run_gcloud,
            terraform=_run_terraform,
        ),
        Method(
            api="monitoring",
            method="projects.alertPolicies.create",
            # The parent: POST v3/{name=projects/*}/alertPolicies
            # (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies/create).
            resource=re.compile(r"projects/(?P<project>[^/]+)"),
            fields=frozenset({"displayName", "combiner", "conditions", "notificationChannels"}),
            context=frozenset(),
            update_mask=False,  # a create sends the whole policy
            gcloud=_alert_gcloud,
            terraform=_alert_terraform,
        ),
    )
}


def method_of(api: str, method: str) -> Method:
    """The Method infradiag renders for (api, method); ValueError naming the known ones otherwise."""
    known = METHODS.get((api, method))
    if known is None:
        choices = ", ".join(f"{a} {m}" for a, m in METHODS)
        raise ValueError(f"no renderer for {api} {method} (known: {choices})")
    return known


def build_change(
    api: str,
    method: str,
    resource: str,
    fields: list[FieldChange],
    context: dict[str, Any],
    risks: list[Risk],
    way_back: str | None = None,
) -> Change:
    """The Change of `fields` on `resource`: only the fields whose value changes, plus those the API wants
    alongside a changed one (carried at their current value); `context` without its unset (None) values, plus
    the current value of each field left unchanged (for the whole-resource renderings).
    ValueError when the method, resource or a field is not one infradiag knows."""
    spec = method_of(api, method)
    spec.names(resource)
    for item in fields:
        if item.field not in spec.fields:
            raise ValueError(
                f"{api} {method} cannot set {item.field} (it sets {', '.join(sorted(spec.fields))})"
            )
    changed = [f for f in fields if f.proposed != f.current]
    carried: dict[str, Any] = {}
    for group in spec.together:
        if any(f.field in group for f in changed):
            carried |= {
                f.field: f.current
                for f in fields
                if f.field in group and f not in changed and f.current is not None
            }
    return Change(
        api=api,
        method=method,
        resource=resource,
        changes=changed,
        carried=carried,
        # A field left as it is still names the resource's current setting in a whole-resource view.
        context={
            **{f.field: f.current for f in fields if f not in changed and f.current is not None},
            **{k: v for k, v in context.items() if v is not None},
        },
        risks=risks,
        way_back=way_back,
    )


def gcloud_command(change: Change) -> str:
    """The one-line gcloud command that makes the change, with --project and the resource's scope; every
    value shell-quoted. Empty for a change that changes nothing."""
    if change.empty:
        return ""
    spec = method_of(change.api, change.method)
    return spec.gcloud(change, spec.names(change.resource))


def terraform_block(change: Change) -> str:
    """The complete Terraform resource block of the resource once changed: its identifying attributes and
    every setting the change knows, each changed one with a `# was ...` comment. Empty for a no-op."""
    if change.empty:
        return ""
    spec = method_of(change.api, change.method)
    return spec.terraform(change, spec.names(change.resource))


def update_mask(change: Change) -> str | None:
    """The request's updateMask, or None for a method that takes none."""
    return change.update_mask() if method_of(change.api, change.method).update_mask else None
