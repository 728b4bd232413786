"""Playbook YAML the diagnosis tests write by hand: the fields of a minimal leaf, the same in each."""

from __future__ import annotations

import textwrap


def leaf(cause: str, indent: int) -> str:
    """A leaf node's fields after its question and answer (a P1 `cause` on resource "r" with no affected
    services), one line each, `indent` spaces in."""
    fields = f"""cause: {cause}
title: t
resource: '"r"'
affected: '[]'
priority: [{{level: P1}}]
remediation: {{summary: s}}
"""
    return textwrap.indent(fields, " " * indent)
