"""resource_part: the id after a collection in a full resource name."""

from __future__ import annotations

from infradiag.fixes.names import resource_part

KEY = "projects/security-prj/locations/europe-west1/keyRings/sql/cryptoKeys/db"


def test_the_project_of_a_key_is_its_own_not_the_triaged_one() -> None:
    assert resource_part(KEY, "projects") == "security-prj"
    assert resource_part(KEY + "/cryptoKeyVersions/4", "keyRings") == "sql"


def test_a_name_without_the_collection_gives_nothing() -> None:
    assert resource_part("staging-db", "projects") == ""
    # The last segment has no id after it.
    assert resource_part("a/b/projects", "projects") == ""
