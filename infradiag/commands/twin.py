"""`infradiag twin ...`: run the twin of a scenario on its own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from infradiag.commands.common import Format, format_option

twin_app = typer.Typer(help="Run the local twin of a GCP project.", no_args_is_help=True)


@twin_app.command("serve")
def twin_serve(
    scenario: Annotated[Path, typer.Argument(help="Scenario file.")],
    output: Annotated[
        Format, format_option(Format.terminal, Format.json, help="json: one line naming the addresses.")
    ] = Format.terminal,
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="Write a service account key file whose token_uri is this twin (a scenario with "
            "twin.requireCredentials), for `credentials` in infradiag.toml.",
        ),
    ] = None,
) -> None:
    """Serve a scenario's twin on loopback until Ctrl-C or SIGTERM."""
    import json
    import signal
    import threading

    from infradiag.errors import UsageError
    from infradiag.twin.rest import ENDPOINT_APIS
    from infradiag.twin.scenario import load_scenario
    from infradiag.twin.server import Twin

    loaded = load_scenario(scenario)
    if key_file is not None and not loaded.twin.requireCredentials:
        raise UsageError(
            "--key-file",
            f"{scenario} does not require credentials, so its twin issues no key",
            "add `twin: {requireCredentials: true}` to the scenario, or drop --key-file",
        )
    twin = Twin(loaded)
    addresses = twin.start()
    if key_file is not None:
        try:
            twin.write_key_file(key_file)
        except OSError as error:
            twin.stop()
            raise UsageError(
                "--key-file", f"cannot write {key_file}: {error.strerror}", "name a writable file"
            ) from None
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if output is Format.json:
        print(json.dumps(addresses.as_json()), flush=True)
    else:
        print(f"twin of {addresses.project} ({addresses.region}) from {scenario}", flush=True)
        print(f"  REST ({', '.join(ENDPOINT_APIS)}): {addresses.rest}", flush=True)
        print(f"  gRPC (monitoring): {addresses.grpc}", flush=True)
        for service, url in addresses.services.items():
            print(f"  service {service}: {url}", flush=True)
        print("Ctrl-C to stop.", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        twin.stop()


@twin_app.command("check")
def twin_check(scenario: Annotated[Path, typer.Argument(help="Scenario file.")]) -> None:
    """Validate a scenario without serving it: exit 0 when valid, 2 with file, line and fix otherwise."""
    from infradiag.twin.scenario import load_scenario

    loaded = load_scenario(scenario)
    # Answers Google computes (backend health, router status) are not resources of the project.
    computed = ("backendServiceHealth", "routerStatus")
    compute = sum(len(v) for k, v in loaded.compute.model_dump().items() if k not in computed)
    counts = {
        "services": len(loaded.run.services),
        "connectors": len(loaded.vpcaccess.connectors),
        "compute resources": compute,
        "SQL instances": len(loaded.sql.instances),
        "time series": len(loaded.monitoring.timeSeries),
        "API faults": len(loaded.apiFaults),
    }
    summary = ", ".join(f"{n} {what}" for what, n in counts.items() if n)
    print(f"{scenario}: valid ({summary or 'empty project'})")
