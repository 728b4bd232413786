"""Config models and loading; every problem is a one-line UsageError naming file, key and fix."""

from __future__ import annotations

import re
import tomllib
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from infradiag.config.probes import FIXES as PROBE_FIXES
from infradiag.config.probes import ServiceProbes, check_auth, remember_body_checks
from infradiag.errors import UsageError
from infradiag.inputfile import read_text

DEFAULT_CONFIG = Path("infradiag.toml")


class Thresholds(BaseModel):
    """Defaults of docs/causes.md; an environment may override any of them."""

    model_config = ConfigDict(extra="forbid")

    connector_cpu_saturated: float = Field(0.90, gt=0, le=1)
    connector_cpu_warning: float = Field(0.80, gt=0, le=1)
    # At or above this share of probed services failing, a cause that explains them is P0.
    outage_share: float = Field(0.5, gt=0, le=1)
    # Share of the machine type's throughput ceiling that counts as saturated.
    connector_throughput_saturated: float = Field(0.9, gt=0, le=1)
    sql_connections_saturated: float = Field(0.95, gt=0, le=1)  # of max_connections
    sql_connections_warning: float = Field(0.80, gt=0, le=1)
    sql_cpu_saturated: float = Field(0.90, gt=0, le=1)
    run_memory_exhausted: float = Field(0.95, gt=0, le=1)  # p99 memory utilization
    # p99 latency at this share of the service's request timeout counts as reaching it.
    request_timeout_share: float = Field(0.95, gt=0, le=1)
    cold_start_ms: float = Field(5000, gt=0)  # startup p95 (or probe latency) this slow is a cold start
    tls_expiring_days: int = Field(14, ge=1)
    tls_expiring_urgent_days: int = Field(3, ge=0)


# A notification channel's full resource name, as
# `gcloud beta monitoring channels list --format 'value(name)'` prints it
# (https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.notificationChannels).
NotificationChannel = Annotated[
    str, StringConstraints(pattern=r"^projects/[^/\s]+/notificationChannels/[^/\s]+$")
]


class AlertingConfig(BaseModel):
    """The `[environments.NAME.alerting]` table: where the alert policies infradiag proposes notify."""

    model_config = ConfigDict(extra="forbid")

    # Put in every proposed policy's notificationChannels; none: the fix says one is needed.
    notification_channels: list[NotificationChannel] = Field(default_factory=list)


class ProbeSettings(BaseModel):
    """How an environment's services are probed: the one place these settings and their defaults live.

    The fields are the keys of an `[environments.NAME]` table (EnvironmentConfig inherits them); a Target
    carries them to the probe engine, whose own defaults are these.
    """

    model_config = ConfigDict(extra="forbid")

    health_path: str = Field("/health", pattern=r"^/")
    probe_timeout_s: float = Field(10.0, gt=0)
    # Probes are I/O bound (one socket each): 256 in flight probes a 200-service fleet in one wave.
    probe_concurrency: int = Field(256, ge=1, le=1024)
    probe_max_body_bytes: int = Field(65536, ge=1)
    probe_max_redirects: int = Field(3, ge=0, le=20)
    probe_confirm: bool = False  # try a failed probe once more, to tell a flap from an outage
    auth: str | None = None  # "id_token" or "env:VAR", for every service unless its probes table says else
    probes: dict[str, ServiceProbes] = Field(default_factory=dict)  # service name -> probe settings

    @field_validator("auth")
    @classmethod
    def _auth_form(cls, value: str | None) -> str | None:
        return check_auth(value)


class EnvironmentConfig(ProbeSettings):
    """One `[environments.NAME]` table: either `project` + `region`, or `twin`; and how to probe."""

    project: str | None = None
    region: str | None = None
    twin: Path | None = None
    services: list[str] | None = None
    thresholds: Thresholds = Field(default_factory=Thresholds)
    alerting: AlertingConfig = Field(default_factory=AlertingConfig)
    # Accepted findings (YAML, see README "Accepted findings"); relative to the config file's folder.
    suppressions: Path | None = None
    # An already running twin (e.g. from `infradiag twin serve`) instead of Google: its REST base URL, its
    # Monitoring gRPC host:port, and the scenario's `now` (metric windows end there; default: the clock).
    api_endpoint: str | None = Field(None, pattern=r"^https?://")
    monitoring_endpoint: str | None = Field(None, pattern=r"^\S+:\d+$")
    now: datetime | None = None
    # A credentials file (a service account key, or any file google-auth loads) instead of Application
    # Default Credentials; relative to the config file's folder. Against a running twin that requires
    # credentials: a key file whose `token_uri` is that twin's token endpoint.
    credentials: Path | None = None
    # Read the project as this service account, impersonated through the IAM Credentials API.
    impersonate_service_account: str | None = Field(None, pattern=r"^[^@\s]+@[^@\s]+$")

    def probe_settings(self) -> ProbeSettings:
        """This environment's probe settings, on their own (already validated)."""
        return ProbeSettings.model_construct(
            **{name: getattr(self, name) for name in ProbeSettings.model_fields}
        )

    @model_validator(mode="after")
    def _one_kind(self) -> EnvironmentConfig:
        if (self.api_endpoint is None) != (self.monitoring_endpoint is None):
            raise ValueError("set both `api_endpoint` and `monitoring_endpoint`, or neither")
        if self.now is not None and self.api_endpoint is None:
            raise ValueError("`now` only applies with `api_endpoint` (a running twin); remove it")
        if self.twin is not None and self.api_endpoint is not None:
            raise ValueError("`twin` starts its own twin; remove `api_endpoint`/`monitoring_endpoint`")
        if self.twin is None and not (self.project and self.region):
            raise ValueError('set either `twin = "scenarios/FILE.yaml"` or both `project` and `region`')
        if self.twin is not None and (self.project or self.region):
            raise ValueError(
                "`twin` takes its project and region from the scenario; remove `project`/`region`"
            )
        return self


class HistoryConfig(BaseModel):
    """The `[history]` table: where `infradiag sweep` keeps its history (README, "Scheduled sweeps")."""

    model_config = ConfigDict(extra="forbid")

    # Relative to the config file's folder; `{environment}` in it gives each environment its own database.
    path: str = ".infradiag/history.sqlite"
    # A folder (e.g. a Cloud Storage volume mount) that receives a copy of each database after every sweep
    # and seeds a missing local one; needs `{environment}` in `path` (one file per environment).
    publish_dir: Path | None = None
    keep_days: int = Field(90, ge=1)  # sweeps older than this are pruned when an environment is swept

    @model_validator(mode="after")
    def _placeholders(self) -> HistoryConfig:
        try:
            self.path.format(environment="x")
        except (KeyError, IndexError, ValueError):
            raise ValueError("`path` may only contain the placeholder {environment}") from None
        if self.publish_dir is not None and "{environment}" not in self.path:
            raise ValueError("`publish_dir` needs one database per environment: put {environment} in `path`")
        return self


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    environments: dict[str, EnvironmentConfig] = Field(default_factory=dict)
    history: HistoryConfig = Field(default_factory=HistoryConfig)
    path: Path = DEFAULT_CONFIG

    def environment(self, name: str) -> EnvironmentConfig:
        """The named environment; an unknown name is a UsageError listing the known ones."""
        if name not in self.environments:
            known = ", ".join(sorted(self.environments)) or "none"
            raise UsageError(
                str(self.path), f"no environment {name!r} (defined: {known})", f"add [environments.{name}]"
            )
        return self.environments[name]


def _place(loc: tuple[Any, ...]) -> str:
    if len(loc) >= 2 and loc[0] == "environments":
        rest = ".".join(str(p) for p in loc[2:])
        table = f"[environments.{loc[1]}]"
        return f"{table} {rest}".strip()
    return ".".join(str(p) for p in loc) or "(top level)"


def load_config(path: Path | None = None) -> Config:
    """Read and validate the config; twin paths are resolved against the config file's folder."""
    path = path or DEFAULT_CONFIG
    text = read_text(path, "config file", "run from the repository root or pass --config FILE")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"\(at line (\d+)", str(exc))
        line = at.group(1) if at else text.count("\n") + 1  # else "(at end of document)"
        where = f"{path}:{line}"
        raise UsageError(where, f"invalid TOML: {exc}", "fix the TOML syntax") from None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        raise UsageError(str(path), f"invalid TOML: {exc}", "fix the value") from None
    except RecursionError:
        raise UsageError(
            str(path), "invalid TOML: arrays or tables nested too deep to read", "flatten the nesting"
        ) from None
    try:
        config = Config.model_validate({**raw, "path": path})
    except ValidationError as exc:
        first = exc.errors()[0]
        msg = first["msg"].removeprefix("Value error, ")
        raise UsageError(str(path), f"{_place(tuple(first['loc']))}: {msg}", _fix(first["type"])) from None
    remember_body_checks(table for env in config.environments.values() for table in env.probes.values())
    for env in config.environments.values():
        if env.twin is not None and not env.twin.is_absolute():
            env.twin = (path.parent / env.twin).resolve()
        if env.credentials is not None and not env.credentials.is_absolute():
            env.credentials = (path.parent / env.credentials).resolve()
        if env.suppressions is not None and not env.suppressions.is_absolute():
            env.suppressions = (path.parent / env.suppressions).resolve()
    if not Path(config.history.path).is_absolute():
        config.history.path = str((path.parent / config.history.path).resolve())
    if config.history.publish_dir is not None and not config.history.publish_dir.is_absolute():
        config.history.publish_dir = (path.parent / config.history.publish_dir).resolve()
    return config


def _fix(error_type: str) -> str:
    if error_type in PROBE_FIXES:
        return PROBE_FIXES[error_type]
    if error_type == "extra_forbidden":
        return "remove the key or correct its spelling (see README, Configuration)"
    return "see README, Configuration"
