"""What a CEL expression reads and gives, known before it runs: why broken checks are refused at load."""

from __future__ import annotations

import pytest

from infradiag.cel import compile_expression


@pytest.mark.parametrize(
    ("source", "gives"),
    [
        ("body.status + 1", "a sum"),
        ("body.x * 2", "a number"),
        ("-body.x", "a number"),
        ('"ok"', "a string"),
        ("[1, 2]", "a list"),
        ("[]", "a list"),
        ('{"a": 1}', "a map"),
        ("null", "null"),
        ("1.5", "a double"),
        ("size(body)", "an int"),
        ("body.items.map(x, x.name)", "a list"),
        ("true ? 1 : 2", "an int"),
        # Boolean whatever the data:
        ('body.status == "ok"', "bool"),
        ("!body.ok", "bool"),
        ("body.a || body.b", "bool"),
        ("body.a && body.b", "bool"),
        ("body.a in [1, 2]", "bool"),
        ("has(body.a)", "bool"),
        ('body.s.startsWith("a")', "bool"),
        ("body.items.all(x, x > 0)", "bool"),
        # Depends on the data: a JSON field may hold a bool.
        ("body.ok", None),
        ("(body.ok)", None),
        ("body.a ? 1 : true", None),
        ("body.flags[0]", None),
    ],
)
def test_result_type_is_known_only_when_the_data_cannot_change_it(source: str, gives: str | None) -> None:
    assert compile_expression(source).result_type == gives


@pytest.mark.parametrize(
    ("source", "free"),
    [
        ("connectors", {"connectors"}),
        ("connectors.filter(c, c.state == 'READY')", {"connectors"}),
        ("services.filter(s, s.name in failing_services)", {"services", "failing_services"}),
        ("xs.all(x, ys.exists(y, x == y))", {"xs", "ys"}),
        ("xs.map(x, x > 0, x * limit)", {"xs", "limit"}),
        # A macro variable is bound only inside its own macro.
        ("xs.all(x, x > 0) && x == 1", {"xs", "x"}),
        ("has(item.cpu) && item.cpu > thresholds.connector_cpu_saturated", {"item", "thresholds"}),
    ],
)
def test_free_identifiers_leave_out_macro_variables(source: str, free: set[str]) -> None:
    assert compile_expression(source).free == free
