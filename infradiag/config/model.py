"""Config models and loading; every problem is a one-line UsageError naming file, key and fix."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from infradiag.errors import UsageError

DEFAULT_CONFIG = Path("infradiag.toml")


class Thresholds(BaseModel):
    """Defaults of causes.md; an environment may override any of them."""

    model_config = ConfigDict(extra="forbid")

    connector_cpu_saturated: float = Field(0.90, gt=0, le=1)
    connector_cpu_warning: float = Field(0.80, gt=0, le=1)
    # At or above this share of probed services failing, a cause that explains them is P0.
    outage_share: float = Field(0.5, gt=0, le=1)


class EnvironmentConfig(BaseModel):
    """One `[environments.NAME]` table: either `project` + `region`, or `twin`."""

    model_config = ConfigDict(extra="forbid")

    project: str | None = None
    region: str | None = None
    twin: Path | None = None
    services: list[str] | None = None
    health_path: str = Field("/health", pattern=r"^/")
    probe_timeout_s: float = Field(10.0, gt=0)
    probe_concurrency: int = Field(32, ge=1, le=1024)
    thresholds: Thresholds = Field(default_factory=Thresholds)

    @model_validator(mode="after")
    def _one_kind(self) -> EnvironmentConfig:
        if self.twin is None and not (self.project and self.region):
            raise ValueError('set either `twin = "scenarios/FILE.yaml"` or both `project` and `region`')
        if self.twin is not None and (self.project or self.region):
            raise ValueError(
                "`twin` takes its project and region from the scenario; remove `project`/`region`"
            )
        return self


class Config(BaseModel):
    model_config = ConfigDict(extra="forbid")

    environments: dict[str, EnvironmentConfig] = Field(default_factory=dict)
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
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            str(path), "config file not found", "run from the repository root or pass --config FILE"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(str(path), f"invalid TOML: {exc}", "fix the TOML syntax") from None
    try:
        config = Config.model_validate({**raw, "path": path})
    except ValidationError as exc:
        first = exc.errors()[0]
        msg = first["msg"].removeprefix("Value error, ")
        raise UsageError(str(path), f"{_place(tuple(first['loc']))}: {msg}", _fix(first["type"])) from None
    for env in config.environments.values():
        if env.twin is not None and not env.twin.is_absolute():
            env.twin = (path.parent / env.twin).resolve()
    return config


def _fix(error_type: str) -> str:
    if error_type == "extra_forbidden":
        return "remove the key or correct its spelling (see README, Configuration)"
    return "see README, Configuration"
