"""Fixes as typed changes: the API request a fix makes, its risks, and its gcloud and Terraform renderings.

A pipeline stage below diagnose: it imports nothing of collect or the twin.
"""

from infradiag.fixes.model import RISK_TEXT, Change, FieldChange, Risk
from infradiag.fixes.render import (
    METHODS,
    build_change,
    gcloud_command,
    method_of,
    terraform_block,
    update_mask,
)

__all__ = [
    "METHODS",
    "RISK_TEXT",
    "Change",
    "FieldChange",
    "Risk",
    "build_change",
    "gcloud_command",
    "method_of",
    "terraform_block",
    "update_mask",
]
