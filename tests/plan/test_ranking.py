"""The plan's order and steps as docs/report-format.md defines them: findings by priority, then blast radius,
then confidence; one step per distinct action, naming every finding it resolves."""

from __future__ import annotations

from infradiag.diagnose.findings import Finding, Fix, merge_findings
from infradiag.plan.ranking import make_plan, ranked


def finding(
    cause: str,
    priority: str = "P1",
    services: tuple[str, ...] = ("a",),
    confidence: float = 0.8,
    *,
    summary: str | None = None,
    commands: tuple[str, ...] = (),
    terraform: str | None = None,
    resource: str | None = None,
) -> Finding:
    return Finding(
        cause=cause,
        priority=priority,  # type: ignore[arg-type]
        title=f"{cause} title",
        resource=resource or f"projects/p/things/{cause}",
        affected_services=list(services),
        remediation=Fix(summary=summary or f"fix {cause}", commands=list(commands), terraform=terraform),
        confidence=confidence,
    )


def causes(findings: list[Finding]) -> list[str]:
    return [f.cause for f in findings]


# ranked: each key decides only when the ones before it tie; every case is given in both input orders, so
# neither a stable sort of the input nor a reversed key can pass.


def test_priority_comes_before_blast_radius_and_confidence() -> None:
    urgent = finding("urgent", "P0", ("a",), 0.1)
    wide = finding("wide", "P1", tuple("abcdefghi"), 0.99)
    assert causes(ranked([wide, urgent])) == ["urgent", "wide"]
    assert causes(ranked([urgent, wide])) == ["urgent", "wide"]


def test_at_equal_priority_more_affected_services_come_first() -> None:
    wide = finding("wide", "P1", ("a", "b", "c"), 0.5)
    narrow = finding("narrow", "P1", ("a",), 0.9)
    assert causes(ranked([narrow, wide])) == ["wide", "narrow"]
    assert causes(ranked([wide, narrow])) == ["wide", "narrow"]


def test_at_equal_priority_and_blast_radius_higher_confidence_comes_first() -> None:
    sure = finding("sure", "P2", ("a", "b"), 0.9)
    unsure = finding("unsure", "P2", ("c", "d"), 0.5)
    assert causes(ranked([unsure, sure])) == ["sure", "unsure"]
    assert causes(ranked([sure, unsure])) == ["sure", "unsure"]


def test_all_four_priorities_in_order() -> None:
    findings = [finding(p.lower(), p) for p in ("P3", "P1", "P2", "P0")]
    assert causes(ranked(findings)) == ["p0", "p1", "p2", "p3"]


# make_plan


def test_distinct_actions_are_steps_ranked_in_finding_order() -> None:
    low = finding("low", "P3", summary="restart it")
    high = finding("high", "P0", ("a", "b"), summary="raise the limit")
    plan = make_plan([low, high])
    assert [(s.rank, s.priority, s.action, s.findings) for s in plan] == [
        (1, "P0", "raise the limit", [high.id]),
        (2, "P3", "restart it", [low.id]),
    ]
    assert [s.blast_radius for s in plan] == [2, 1]


def test_one_step_per_action_names_every_finding_and_unites_commands_and_terraform() -> None:
    first = finding(
        "first",
        "P1",
        ("a", "b"),
        summary="same fix",
        commands=("gcloud one", "gcloud two"),
        terraform="resource.x: a = 1",
    )
    second = finding(
        "second",
        "P2",
        ("c",),
        summary="same fix",
        commands=("gcloud two", "gcloud three"),
        terraform="resource.x: a = 1",
    )
    third = finding("third", "P3", ("d",), summary="same fix", terraform="resource.y: b = 2")
    [step] = make_plan([third, second, first])
    assert step.rank == 1
    assert step.priority == "P1"  # the most urgent finding it resolves
    assert step.action == "same fix"
    assert step.findings == [first.id, second.id, third.id]
    assert step.commands == ["gcloud one", "gcloud two", "gcloud three"]
    assert step.terraform == ["resource.x: a = 1", "resource.y: b = 2"]


def test_a_step_keeps_its_first_findings_terraform() -> None:
    [step] = make_plan([finding("x", summary="do it", terraform="resource.x: a = 1")])
    assert step.terraform == ["resource.x: a = 1"]


def test_a_step_without_terraform_has_none() -> None:
    [step] = make_plan([finding("x", summary="do it", commands=("gcloud x",))])
    assert step.terraform == [] and step.commands == ["gcloud x"]


def test_blast_radius_of_a_shared_step_counts_services_not_findings() -> None:
    # Two findings on nine services each (the same nine): nine services are affected, not two.
    nine = tuple(f"svc-{i}" for i in range(9))
    connector = finding("connector", "P0", nine, summary="raise the connector")
    alert = finding("alert", "P3", nine, summary="raise the connector")
    [step] = make_plan([connector, alert])
    assert step.blast_radius == 9


def test_blast_radius_of_a_shared_step_counts_each_service_once() -> None:
    first = finding("first", "P1", ("a", "b"), summary="same fix")
    second = finding("second", "P1", ("b", "c"), summary="same fix")
    third = finding("third", "P2", ("a",), summary="same fix")
    fourth = finding("fourth", "P3", ("c", "b"), summary="same fix")
    [step] = make_plan([first, second, third, fourth])
    assert len(step.findings) == 4 and step.blast_radius == 3


# merge_findings (infradiag/diagnose/findings.py): one finding per cause and resource.


def test_merge_keeps_the_higher_priority_whichever_comes_first() -> None:
    minor = finding("c", "P2", ("a", "b"), resource="r")
    urgent = finding("c", "P0", ("c",), resource="r")
    for findings in ([minor, urgent], [urgent, minor]):
        [merged] = merge_findings(findings)
        assert merged.priority == "P0"
        assert sorted(merged.affected_services) == ["a", "b", "c"]


def test_merge_unites_services_in_order_without_duplicates() -> None:
    first = finding("c", "P1", ("a", "b"), resource="r")
    second = finding("c", "P1", ("b", "c", "a", "d"), resource="r")
    [merged] = merge_findings([first, second])
    assert merged.affected_services == ["a", "b", "c", "d"]
    assert merged.priority == "P1"


def test_merge_leaves_other_causes_and_resources_apart() -> None:
    one = finding("c", "P1", ("a",), resource="r1")
    other_resource = finding("c", "P1", ("b",), resource="r2")
    other_cause = finding("d", "P1", ("c",), resource="r1")
    merged = merge_findings([one, other_resource, other_cause])
    assert [(f.cause, f.resource, f.affected_services) for f in merged] == [
        ("c", "r1", ["a"]),
        ("c", "r2", ["b"]),
        ("d", "r1", ["c"]),
    ]


# Phases (infradiag/plan/phases.py): within a priority, restoring service comes before hardening.


def test_within_a_priority_restoring_comes_before_hardening_however_wide() -> None:
    expiring = finding("tls.certificate_expiring", "P1", tuple("abcdef"), 0.99)
    at_max = finding("run.max_instances_reached", "P1", ("a",), 0.5)
    assert causes(ranked([expiring, at_max])) == ["run.max_instances_reached", "tls.certificate_expiring"]
    assert causes(ranked([at_max, expiring])) == ["run.max_instances_reached", "tls.certificate_expiring"]


def test_a_headroom_playbook_hardens_though_its_cause_restores_elsewhere() -> None:
    headroom = finding("vpc_connector.saturated", "P2", tuple("abc"), 0.9).model_copy(
        update={"playbook": "vpc-connector-headroom"}
    )
    slow = finding("run.cold_start", "P2", ("a",), 0.5)
    assert causes(ranked([headroom, slow])) == ["run.cold_start", "vpc_connector.saturated"]
    assert causes(ranked([slow, headroom])) == ["run.cold_start", "vpc_connector.saturated"]


def test_priority_still_comes_before_phase() -> None:
    alert = finding("monitoring.alert_gap", "P1", ("a",))
    latent = finding("run.cold_start", "P2", tuple("abc"))
    assert causes(ranked([latent, alert])) == ["monitoring.alert_gap", "run.cold_start"]
    assert causes(ranked([alert, latent])) == ["monitoring.alert_gap", "run.cold_start"]


def test_the_plan_puts_the_restoring_step_first() -> None:
    plan = make_plan(
        [finding("monitoring.alert_gap", "P1", tuple("abc")), finding("sql.instance_unavailable", "P1")]
    )
    assert [s.action for s in plan] == ["fix sql.instance_unavailable", "fix monitoring.alert_gap"]
