"""A new connector's /28: free of the network's subnets and of every connector's range."""

from __future__ import annotations

from infradiag.fixes.ranges import free_connector_range


def test_the_first_free_28_skips_connector_and_subnet_ranges_of_the_network() -> None:
    subnets = [
        {"network": "vpc", "ip_cidr_range": "10.8.0.16/28"},
        {"network": "other", "ip_cidr_range": "10.8.0.32/28"},
    ]
    connectors = [{"network": "vpc", "ip_cidr_range": "10.8.0.0/28"}]
    found = free_connector_range("vpc", subnets, connectors)
    # 10.8.0.32/28 is another network's subnet: free on this one.
    assert found["cidr"] == "10.8.0.32/28"
    assert "clear of 10.8.0.16/28, 10.8.0.0/28" in found["why"]
    assert "gcloud compute addresses list --global --filter purpose=VPC_PEERING" in found["why"]


def test_a_subnet_covering_the_block_pushes_past_it() -> None:
    found = free_connector_range("vpc", [{"network": "vpc", "ip_cidr_range": "10.8.0.0/17"}], [])
    assert found["cidr"] == "10.8.128.0/28"


def test_an_empty_network_gets_googles_example_range() -> None:
    found = free_connector_range("vpc", [], [])
    assert found["cidr"] == "10.8.0.0/28" and "no subnet or connector range seen" in found["why"]
