"""The JSON report's text (infradiag/report/jsontext.py) is json.dumps(indent=2)'s, character for character,
for any JSON value, and for what it leaves to json.dumps."""

from __future__ import annotations

import enum
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from infradiag.report.jsontext import dumps_indented
from tests.report.golden import INCIDENT

_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()  # any code point: escapes, surrogates, non-ASCII
)
_JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(), inner, max_size=5),
    max_leaves=40,
)


@given(_JSON)
def test_any_json_value_is_written_as_json_dumps_writes_it(value: Any) -> None:
    assert dumps_indented(value) == json.dumps(value, indent=2)


class _Level(enum.IntEnum):
    P1 = 1


def test_what_is_not_plain_json_is_left_to_json_dumps() -> None:
    for value in [
        {1: "an int key", "b": [True]},
        {"tuple": (1, 2.5, "x")},
        [_Level.P1],
        {"nested": [{"deep": [None, {2.5: "float key"}]}]},
    ]:
        assert dumps_indented(value) == json.dumps(value, indent=2)


def test_the_bundled_incident_report_is_written_as_before() -> None:
    report = json.loads(INCIDENT.read_text())
    assert dumps_indented(report) + "\n" == json.dumps(report, indent=2) + "\n"
    assert dumps_indented(report).count("\n") > 100
