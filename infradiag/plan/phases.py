"""Which findings stop the bleeding and which harden: the plan puts restoring service before hardening.

Within one priority, a step that brings failing services back (start the database, widen the connector that
starves them) comes before one that keeps the next outage away or shortens it (an alert, headroom on a
connector that has not failed yet, a certificate that has not expired yet). Priority still comes first: a P0
is never behind a P1, whatever its phase.
"""

from __future__ import annotations

from enum import IntEnum

from infradiag.diagnose.findings import Finding


class Phase(IntEnum):
    """A finding's place in the plan within its priority: lower first."""

    RESTORE = 0  # brings back what fails now
    HARDEN = 1  # prevents or shortens the next outage; nothing fails now for want of it


# Causes whose fix never restores service: they are found on a resource that works (observability, a limit
# not reached yet).
HARDENING_CAUSES = frozenset(
    {
        "monitoring.alert_gap",  # an alert pages the next time; it restores nothing now
        "tls.certificate_expiring",  # still valid: renewing it prevents the outage it would cause
    }
)
# Playbooks whose findings are headroom on a cause other playbooks also report when it fails now: the same
# cause (vpc_connector.saturated) is a restore step from vpc-connector-saturation and hardening from here.
HARDENING_PLAYBOOKS = frozenset({"vpc-connector-headroom"})


def phase_of(finding: Finding) -> Phase:
    """HARDEN when the finding's cause or its playbook only hardens (the tables above), RESTORE otherwise:
    an unknown cause counts as restoring, so it is never pushed behind hardening by mistake."""
    if finding.cause in HARDENING_CAUSES or finding.playbook in HARDENING_PLAYBOOKS:
        return Phase.HARDEN
    return Phase.RESTORE
