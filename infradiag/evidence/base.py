"""The base of every evidence model: immutable plain data."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class EvidenceModel(BaseModel):
    model_config = ConfigDict(frozen=True)
