"""An apiFaults entry with each google.rpc code, as an official REST client meets it, checked alike for every
API: the call raises the google-api-core error of the HTTP status Google maps the code to, and the twin logs
the call with the code."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from google.api_core import exceptions

from infradiag.twin.server import Twin
from tests.twin.rest_twin import FAULT_CODES, calls

# One test case per code (`pytest.mark.parametrize("code", FAULT_CODE_NAMES)`).
FAULT_CODE_NAMES = sorted(FAULT_CODES)


def raised_by_fault(
    twin: Twin, code: str, method: str, call: Callable[[], object]
) -> exceptions.GoogleAPICallError:
    """The error `call` raises, once its status is the one `code` maps to and the twin logged its first call
    of `method` with `code`."""
    with pytest.raises(exceptions.GoogleAPICallError) as caught:
        call()
    assert caught.value.code == FAULT_CODES[code]
    assert calls(twin, method)[0].code == code
    return caught.value
