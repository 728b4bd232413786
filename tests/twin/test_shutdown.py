"""Twin.stop ends promptly while calls sleep in an apiFault delay, and leaves no thread holding the process.

The calls are made with the official clients over loopback, from daemon threads of the test.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from google.cloud import monitoring_v3
from google.cloud.monitoring_v3.services.metric_service.transports import MetricServiceGrpcTransport

from infradiag.collect.clients import Clients
from infradiag.target import ApiEndpoints
from infradiag.twin.scenario import ApiFault, load_scenario
from infradiag.twin.server import Twin
from tests.conftest import SCENARIOS

HEALTHY = SCENARIOS / "staging-healthy.yaml"
DELAY_MS = 600_000  # far beyond any test: a call that waited it out would hang the run


def in_flight(twin: Twin, call: Callable[[Twin], Any]) -> None:
    """Start `call` on a daemon thread and return once the twin holds it (it is delayed, so never logged)."""
    started = threading.Event()

    def make() -> None:
        started.set()
        with contextlib.suppress(Exception):  # the call ends with the twin: an error is what it sees
            call(twin)

    threading.Thread(target=make, daemon=True).start()
    started.wait()
    time.sleep(0.5)  # the request reaches the twin's handler


def list_services(twin: Twin) -> None:
    assert twin.addresses is not None
    clients = Clients(ApiEndpoints(rest=twin.addresses.rest, grpc=twin.addresses.grpc))
    list(
        clients.run_services.list_services(parent="projects/acme-staging/locations/us-central1", timeout=900)
    )


def list_time_series(twin: Twin) -> None:
    assert twin.addresses is not None
    channel = grpc.insecure_channel(twin.addresses.grpc)
    client = monitoring_v3.MetricServiceClient(transport=MetricServiceGrpcTransport(channel=channel))
    request = {
        "name": "projects/acme-staging",
        "filter": 'metric.type = "run.googleapis.com/request_count"',
        "interval": {"end_time": twin.scenario.now},
    }
    list(client.list_time_series(request=request, timeout=900))


def lasting_threads(before: set[threading.Thread]) -> list[threading.Thread]:
    """Threads started since `before` still running. Daemon or not, any of them can hold the process: the
    gRPC server's handler threads belong to a concurrent.futures pool, which joins them at exit."""
    return [t for t in threading.enumerate() if t not in before and t.is_alive()]


@pytest.mark.parametrize(
    ("api", "call"), [("run", list_services), ("monitoring", list_time_series)], ids=["rest", "grpc"]
)
def test_stop_cancels_a_call_sleeping_in_a_delay(api: str, call: Callable[[Twin], Any]) -> None:
    before = set(threading.enumerate())
    scenario = load_scenario(HEALTHY).model_copy(update={"apiFaults": [ApiFault(api=api, delayMs=DELAY_MS)]})
    twin = Twin(scenario)
    twin.start()
    in_flight(twin, call)
    began = time.monotonic()
    twin.stop()  # used to raise TimeoutError after 30 s (REST) or leave the handler asleep (gRPC)
    # Closing takes a fraction of a second; 10 s is far from the delay and spares a loaded machine.
    assert time.monotonic() - began < 10
    deadline = time.monotonic() + 10
    while lasting_threads(before) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert lasting_threads(before) == []


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def test_a_start_interrupted_part_way_leaves_nothing_running() -> None:
    """Ctrl-C while a twin starts (a sweep's next environment, a triage's --scenario): whatever the start
    had opened is stopped, its thread ended and its Monitoring port closed, so nothing holds the process."""
    import signal
    import socket

    interrupted = 0
    for after_s in (0.001, 0.005, 0.02, 0.05, 0.1, 0.2):
        twin = Twin(load_scenario(HEALTHY))
        previous = signal.signal(signal.SIGALRM, _interrupt)
        signal.setitimer(signal.ITIMER_REAL, after_s)
        try:
            twin.start()
        except KeyboardInterrupt:
            interrupted += 1
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        twin.stop()
        assert not twin._thread.is_alive(), f"interrupted after {after_s} s: the twin's loop still runs"
        if twin._monitoring is not None:
            host, port = twin._monitoring.address.rsplit(":", 1)
            with pytest.raises(ConnectionRefusedError), socket.create_connection((host, int(port)), 1):
                pass
    assert interrupted, "no start was interrupted part-way: the delays need to be shorter"
