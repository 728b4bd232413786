"""The Cloud NAT gateway that only its router status shows short of NAT IPs, through the CLI
(scenarios/cause-vpc-nat-router-status-short.yaml: Monitoring holds no Cloud NAT series at all)."""

from __future__ import annotations

import json

from tests.conftest import ROOT, run_cli


def test_router_status_finding_names_its_source_and_fix() -> None:
    scenario = ROOT / "scenarios" / "cause-vpc-nat-router-status-short.yaml"
    result = run_cli("triage", "--scenario", str(scenario), "--format", "json")
    assert result.returncode in (0, 1) and result.stdout, result.stderr
    (finding,) = [f for f in json.loads(result.stdout)["findings"] if f["cause"] == "vpc.nat_exhausted"]
    assert "lacks 2 NAT IP(s)" in finding["title"] and "drops" not in finding["title"]
    evidence = [e["detail"] for why in finding["why"] for e in why["evidence"]]
    assert "routers.getRouterStatus: minExtraNatIpsNeeded 2 (2 VM endpoints with NAT mappings)" in evidence
    assert "NAT IPs 1 -> 3" in finding["remediation"]["summary"]
    assert all("--project acme-staging" in c for c in finding["remediation"]["commands"])
