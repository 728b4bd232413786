"""Where each environment's history lives, and its copy in a publish folder (e.g. a bucket mount).

Why a publish folder instead of SQLite directly on a Cloud Storage volume: Cloud Storage FUSE has no file
locking and uploads a file as a whole object ("the last write wins",
https://cloud.google.com/run/docs/configuring/jobs/cloud-storage-volume-mounts), and WAL needs shared
memory on one host (https://www.sqlite.org/wal.html). So the database lives on local disk, where WAL and
locks work, and after every sweep a consistent snapshot is copied to the publish folder in one whole-file
write; a run that starts without a local database (a new Cloud Run task) seeds it from that copy.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import tempfile
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from infradiag.config.model import HistoryConfig
from infradiag.errors import UsageError

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


@dataclass(frozen=True)
class HistoryLocation:
    """`path` may hold `{environment}`: then each environment has its own database file."""

    path: str
    publish_dir: Path | None = None
    keep_days: int = 90

    @classmethod
    def from_config(cls, history: HistoryConfig, override: Path | None = None) -> HistoryLocation:
        """The configured location; `override` (the --history flag) replaces `path`."""
        return cls(
            path=str(override) if override is not None else history.path,
            publish_dir=history.publish_dir,
            keep_days=history.keep_days,
        )

    @property
    def per_environment(self) -> bool:
        return "{environment}" in self.path

    def database(self, environment: str) -> Path:
        """The database file that holds `environment`'s sweeps."""
        if not self.per_environment:
            return Path(self.path)
        if not _SAFE_NAME.match(environment):
            raise UsageError(
                "[history] path",
                f"environment {environment!r} cannot name a file",
                "use letters, digits, '.', '_' and '-' in environment names, or drop {environment}",
            )
        return Path(self.path.format(environment=environment))

    def published(self, environment: str) -> Path | None:
        """Where `environment`'s published copy lives, if there is a publish folder."""
        return None if self.publish_dir is None else self.publish_dir / f"{environment}.sqlite"

    def seed(self, environment: str) -> bool:
        """Copy the published database in when there is none locally; True if it did."""
        published = self.published(environment)
        local = self.database(environment)
        if published is None or local.exists() or not published.exists():
            return False
        local.parent.mkdir(parents=True, exist_ok=True)
        partial = local.with_name(local.name + ".seeding")
        shutil.copyfile(published, partial)
        os.replace(partial, local)
        return True

    def publish(self, environment: str) -> Path | None:
        """Copy a consistent snapshot of `environment`'s database to the publish folder: SQLite's online
        backup into a temporary file, switched to a rollback journal so the copy opens anywhere, then one
        whole-file write and a rename. A copy interrupted half-way never replaces the published one."""
        published = self.published(environment)
        if published is None:
            return None
        local = self.database(environment)
        with tempfile.TemporaryDirectory(prefix="infradiag-publish-") as folder:
            snapshot = Path(folder) / published.name
            with closing(sqlite3.connect(local)) as source, closing(sqlite3.connect(snapshot)) as copy:
                source.backup(copy)
                copy.execute("PRAGMA journal_mode = DELETE")
            published.parent.mkdir(parents=True, exist_ok=True)
            partial = published.with_name(f".{published.name}.partial")
            shutil.copyfile(snapshot, partial)
            os.replace(partial, published)
        return published
