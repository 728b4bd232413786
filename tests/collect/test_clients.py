"""Clients: one client per library and kind for a target, however many reads ask for it first at once."""

from __future__ import annotations

import threading

from infradiag.collect.clients import Clients
from infradiag.target import ApiEndpoints


def test_reads_that_first_ask_at_once_share_one_client() -> None:
    # Nothing is sent: a client only holds its endpoint until a call is made.
    clients = Clients(ApiEndpoints(rest="http://127.0.0.1:9", grpc="127.0.0.1:9"))
    start = threading.Barrier(8)
    made: list[object] = []

    def first_read() -> None:
        start.wait()
        made.append(clients.rest("run_v2", "JobsClient"))

    threads = [threading.Thread(target=first_read) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(made) == 8
    assert len({id(client) for client in made}) == 1
    clients.close()
