"""`infradiag.toml`: named environments, each a real project or a bundled twin scenario."""

from infradiag.config.model import Config, EnvironmentConfig, Thresholds, load_config

__all__ = ["Config", "EnvironmentConfig", "Thresholds", "load_config"]
