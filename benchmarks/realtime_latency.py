"""Real-time latency: how soon after a buyer's send is answered the seller's browser has it.

    python -m benchmarks.realtime_latency [--sends 50]

Starts `message-center serve` in its own process as `make run` does (free ports, a private state
file), connects the seller (dom-i-ogrod-pl) to the local WebSocket API the way the web client does
(the access token offered as the second subprotocol), and has the buyer (anna_kowalska) send
``--sends`` questions about the seller's offer over HTTP, one after the other. A reader thread
stamps each frame the moment it arrives. For each send it takes the seller's ``message.created``
for that message id, arrival time minus the time the buyer's 201 arrived, and prints p50, p99 and
the maximum, in milliseconds, with the number of sends whose event did not arrive within
``EVENT_WAIT_SECONDS``. (The event can arrive before the 201 when the stream is read first: then
the figure is negative.) Exits 1 when an event was missing.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Subprotocol

from benchmarks.soak import percentile, serve
from local_runtime import emulator
from local_runtime.directory import DEV_PASSWORD
from local_runtime.state import RuntimeState

DEFAULT_SENDS = 50
BUYER, SELLER, OFFER = "anna_kowalska", "dom-i-ogrod-pl", "12790441001"
SUBPROTOCOL = "message-center.v1"
EVENT_WAIT_SECONDS = 10.0
REQUEST_TIMEOUT_SECONDS = 30
VND = "application/vnd.allegro.public.v1+json"


@dataclass
class Arrivals:
    """When each ``message.created`` reached the socket, by message id (``time.monotonic()``)."""

    times: dict[str, float] = field(default_factory=dict)
    condition: threading.Condition = field(default_factory=threading.Condition)

    def record(self, message_id: str, at: float) -> None:
        with self.condition:
            self.times.setdefault(message_id, at)
            self.condition.notify_all()

    def wait_for(self, message_id: str, timeout: float) -> float | None:
        with self.condition:
            self.condition.wait_for(lambda: message_id in self.times, timeout)
            return self.times.get(message_id)


def _read(socket: ClientConnection, arrivals: Arrivals) -> None:
    try:
        for frame in socket:
            at = time.monotonic()
            event = json.loads(frame)
            if event.get("type") == "message.created":
                arrivals.record(str(event["data"]["message"]["id"]), at)
    except ConnectionClosed:
        pass


@dataclass(frozen=True)
class LatencyReport:
    sends: int
    latencies_ms: list[float]

    @property
    def missing(self) -> int:
        return self.sends - len(self.latencies_ms)


def measure(state: RuntimeState, sends: int) -> LatencyReport:
    """``sends`` sends by the buyer while the seller listens; the latency of each event that came."""
    resources = emulator.resources_of(state)
    tokens = {
        login: emulator.issue_tokens(state.aws_endpoint_url, state.region, resources, login, DEV_PASSWORD)[
            "AccessToken"
        ]
        for login in (BUYER, SELLER)
    }
    buyer = requests.Session()
    buyer.headers.update({"Authorization": f"Bearer {tokens[BUYER]}", "Content-Type": VND, "Accept": VND})
    arrivals = Arrivals()
    offer = [Subprotocol(SUBPROTOCOL), Subprotocol(tokens[SELLER])]
    latencies: list[float] = []
    with connect(state.websocket_url, subprotocols=offer, open_timeout=10) as seller:
        reader = threading.Thread(target=_read, args=(seller, arrivals), daemon=True)
        reader.start()
        for number in range(1, sends + 1):
            response = buyer.post(
                f"{state.api_url}/messaging/messages",
                json={"offer": {"id": OFFER}, "text": f"Pytanie numer {number}: czy lampa jest dostępna?"},
                timeout=REQUEST_TIMEOUT_SECONDS,
            )
            answered = time.monotonic()
            response.raise_for_status()
            arrived = arrivals.wait_for(str(response.json()["id"]), EVENT_WAIT_SECONDS)
            if arrived is not None:
                latencies.append((arrived - answered) * 1000)
    return LatencyReport(sends=sends, latencies_ms=latencies)


def render(report: LatencyReport) -> str:
    """The figures, one line each."""
    lines = [f"Real-time latency: buyer's 201 → seller's message.created, {report.sends} sends"]
    if report.latencies_ms:
        values = report.latencies_ms
        lines += [
            f"  p50  {percentile(values, 0.50):8.1f} ms",
            f"  p99  {percentile(values, 0.99):8.1f} ms",
            f"  max  {max(values):8.1f} ms",
        ]
    lines.append(f"  missing events: {report.missing}")
    return "\n".join(lines)


def run(sends: int) -> LatencyReport:
    """Start `message-center serve`, measure, stop it."""
    with tempfile.TemporaryDirectory(prefix="realtime-latency-") as workdir, serve(Path(workdir)) as (_, state):
        if not state.websocket_port:
            raise RuntimeError("the local runtime serves no WebSocket API (is functions/realtime there?)")
        return measure(state, sends)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--sends", type=int, default=DEFAULT_SENDS, help=f"how many sends (default {DEFAULT_SENDS})")
    arguments = parser.parse_args(argv)
    report = run(arguments.sends)
    print(render(report))
    return 0 if report.missing == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
