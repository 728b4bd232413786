"""From findings to a ranked remediation plan and a verdict."""

from infradiag.plan.ranking import PlanStep, make_plan, verdict

__all__ = ["PlanStep", "make_plan", "verdict"]
