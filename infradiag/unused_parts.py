"""Parts of our dependencies that load on every import yet that infradiag never uses, kept from loading.

A None entry in sys.modules is Python's documented way to make an import fail with ImportError
(https://docs.python.org/3/reference/import.html#the-module-cache). Each package below imports its part
inside `try: ... except ImportError` (and checks for it with importlib.util.find_spec, which returns None
for such an entry), and goes without it:

- `httpx._main`: httpx's command-line client, which loads click, Pygments and Rich (about 0.15 s of CPU
  on every start of a process that probes);
- `google.auth.aio.transport.sessions`: google-auth's asyncio session, which google-api-core's
  `operations_v1` (imported by every client with long-running operations) loads, and with it aiohttp
  (about 0.2 s), for an asyncio REST transport that none of the clients we make uses.
"""

from __future__ import annotations

import sys

UNUSED = ("httpx._main", "google.auth.aio.transport.sessions")


def keep_unused_parts_out() -> None:
    """Make the imports of UNUSED fail (each that is not loaded already), so that their packages go
    without them. Idempotent."""
    for name in UNUSED:
        if name not in sys.modules:
            sys.modules[name] = None  # type: ignore[assignment]
