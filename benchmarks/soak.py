"""Soak: `message-center serve` under sustained mixed traffic, as `make run` starts it.

    python -m benchmarks.soak [--seconds 600] [--clients 4] [--rate 5]

Starts the local runtime in its own process (free ports, a private state file and outbox), signs
the demo users in, registers one push device per user, and then runs ``--clients`` clients on
loopback for ``--seconds``, each in a bounded loop: it waits for its answer before the next
request, and starts at most ``--rate`` operations a second (0: as fast as answered):

- 80 % reads: list threads, list messages, unread badge, get thread;
- 20 % sends: writing in a known thread, or a new conversation (a buyer asking about an offer, a
  business seller writing about an order), one send in five with a PNG attachment (declared,
  uploaded, then sent);

for a random demo user each time. Beside them, a watcher reads the developer pages the way a
developer keeps them open (``/_local/outbox`` and ``/_local/push``) and, every few seconds, sends
the emulator a transaction that must be cancelled (an inbox-shaped ``MBOX#`` put, then a failing
condition check) and checks that nothing of it stayed.

When the time is up it waits for the stream poller to catch up and checks that every send reached
its recipient: an e-mail copy (by ``Message-ID``) and a push on the recipient's device (by
``messageId``). Prints requests/s, p50/p99 per operation and over all API requests, errors, the
serve process's RSS (peak: the kernel's high-water mark, ``VmHWM``; Linux only) and processor time
per request, the machine's load average, the notification counts and the time from each send's
answer until both its notifications were sent (the outbox's ``seenAt``; p50/p99 over the whole run
and over its first and last thirds, which show whether it grows). Exits 1 when a goal is missed: 0
errors, peak RSS under 500 MB, a notification for every send.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import math
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import requests
from botocore.exceptions import ClientError

from local_runtime import emulator
from local_runtime.directory import DEMO_DIRECTORY, DEV_PASSWORD, read_directory
from local_runtime.state import RuntimeState, read_state
from tests.support.files import allowed_files

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SECONDS = 600
DEFAULT_CLIENTS = 4
DEFAULT_RATE = 5.0  # operations a second per client: ~22 requests/s in all, a steady load, not a flood
RSS_GOAL_MB = 500
STARTUP_SECONDS = 90
DRAIN_SECONDS = 120  # how long the poller may take to catch up once the load stops
REQUEST_TIMEOUT_SECONDS = 30
WATCH_EVERY_SECONDS = 5.0
PROGRESS_EVERY_SECONDS = 30.0
VND = "application/vnd.allegro.public.v1+json"
SERVE_PORTS = ("--port", "0", "--aws-port", "0", "--smtp-port", "0")  # free ports: never disturbs `make run`

# (operation, weight): 80 % reads, 20 % sends.
READS = (("list threads", 25), ("list messages", 20), ("badge", 20), ("get thread", 15))
SENDS = (("write in thread", 10), ("new conversation", 10))
ATTACHMENT_EVERY_NTH_SEND = 5


# -- measurements ----------------------------------------------------------------------------


@dataclass
class Tally:
    """Latencies and failures per operation (thread-safe)."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, operation: str, seconds: float, error: str | None = None) -> None:
        with self.lock:
            self.latencies[operation].append(seconds)
            if error is not None:
                self.errors[operation].append(error)

    @property
    def requests(self) -> int:
        with self.lock:
            return sum(len(values) for values in self.latencies.values())

    @property
    def error_count(self) -> int:
        with self.lock:
            return sum(len(values) for values in self.errors.values())


def percentile(values: list[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1) of ``values``."""
    ordered = sorted(values)
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


class ProcessMemory:
    """The resident set size of process ``pid`` now, and its peak (the kernel's high-water mark);
    the processor time it has used."""

    def __init__(self, pid: int) -> None:
        self._status = Path(f"/proc/{pid}/status")
        self._stat = Path(f"/proc/{pid}/stat")

    def cpu_seconds(self) -> float:
        """User and system time so far (0 where /proc is not there)."""
        try:
            fields = self._stat.read_text().rpartition(")")[2].split()
        except OSError:
            return 0.0
        # After the command's ")": state is field 3 of proc(5), utime 14 and stime 15.
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_mb(self) -> float:
        return self._read("VmRSS")

    def peak_mb(self) -> float:
        return self._read("VmHWM")

    def _read(self, name: str) -> float:
        try:
            for line in self._status.read_text().splitlines():
                if line.startswith(f"{name}:"):
                    return int(line.split()[1]) / 1024
        except OSError:  # not Linux, or the process is gone
            pass
        return 0.0


# -- the stack under test --------------------------------------------------------------------


@contextlib.contextmanager
def serve(workdir: Path) -> Iterator[tuple[subprocess.Popen[bytes], RuntimeState]]:
    """`message-center serve` on free ports, with its state file and outbox in ``workdir``."""
    state_file = workdir / "local.json"
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "TABLE_NAME", "USER_POOL"))
    }
    environment |= {"MESSAGE_CENTER_STATE_FILE": str(state_file), "PYTHONUNBUFFERED": "1"}
    with (workdir / "serve.log").open("wb") as log:
        process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "local_runtime.cli", "serve", "--quiet", *SERVE_PORTS],
            cwd=ROOT,
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process, _wait_until_ready(process, state_file)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_until_ready(process: subprocess.Popen[bytes], state_file: Path) -> RuntimeState:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"message-center serve exited with {process.returncode}")
        if state_file.exists():
            with contextlib.suppress(Exception):
                state = read_state(state_file)
                if requests.get(f"{state.api_url}/openapi.json", timeout=2).ok:
                    return state
        time.sleep(0.3)
    raise RuntimeError("message-center serve did not become ready in time")


# -- the demo users and what they can do -----------------------------------------------------


@dataclass(frozen=True)
class Cast:
    """Who may start which conversation, from the demo directory."""

    emails: dict[str, str]  # login → e-mail address
    questions: list[tuple[str, str, str]]  # (buyer, offer id, seller): a buyer asks about an offer
    order_messages: list[tuple[str, str, str]]  # (business seller, buyer, order id)

    @classmethod
    def from_directory(cls, path: Path = DEMO_DIRECTORY) -> Cast:
        directory = read_directory(path)
        users = {user["login"]: user for user in directory["users"]}
        questions = [
            (buyer, offer["id"], offer["seller"])
            for offer in directory["offers"]
            for buyer, user in users.items()
            if not user["businessAccount"] and buyer != offer["seller"]
        ]
        order_messages = [
            (order["seller"], order["buyer"], order["id"])
            for order in directory["orders"]
            if users[order["seller"]]["businessAccount"]
        ]
        return cls({login: user["email"] for login, user in users.items()}, questions, order_messages)

    @property
    def logins(self) -> list[str]:
        return sorted(self.emails)


@dataclass(frozen=True)
class Sent:
    message_id: str
    author: str
    recipient: str
    at: float = 0.0  # when its answer came (epoch seconds)


class Traffic:
    """The threads each user knows of and every message sent (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._threads: dict[str, dict[str, str]] = defaultdict(dict)  # login → thread id → interlocutor
        self.sent: list[Sent] = []

    def learn(self, login: str, thread_id: str, interlocutor: str) -> None:
        with self._lock:
            self._threads[login][thread_id] = interlocutor

    def a_thread_of(self, login: str, rng: random.Random) -> tuple[str, str] | None:
        with self._lock:
            known = list(self._threads[login].items())
        return rng.choice(known) if known else None

    def record_send(self, sent: Sent, thread_id: str) -> None:
        with self._lock:
            self.sent.append(sent)
            self._threads[sent.author][thread_id] = sent.recipient
            self._threads[sent.recipient][thread_id] = sent.author


class RequestFailedError(Exception):
    """An answer other than the expected one, or none at all."""


class Client:
    """One client in a bounded loop: one request at a time, a random user and operation each time,
    at most ``rate`` operations a second (0: as fast as answers come), without catching up on
    time lost to slow answers."""

    def __init__(
        self,
        number: int,
        api_url: str,
        tokens: dict[str, str],
        cast: Cast,
        traffic: Traffic,
        tally: Tally,
        deadline: float,
        rate: float = 0.0,
    ) -> None:
        self._interval = 1 / rate if rate > 0 else 0.0
        self._rng = random.Random(number)  # reproducible mixes
        self._api = api_url
        self._tokens = tokens
        self._cast = cast
        self._traffic = traffic
        self._tally = tally
        self._deadline = deadline
        self._session = requests.Session()  # keep-alive, like a real client
        self._sends = 0
        self._png = allowed_files()["photo.png"][0]
        self._operations = [name for name, _ in (*READS, *SENDS)]
        self._weights = [weight for _, weight in (*READS, *SENDS)]

    def run(self) -> None:
        next_at = time.monotonic()
        while (now := time.monotonic()) < self._deadline:
            if next_at > now:
                time.sleep(next_at - now)
            next_at = max(next_at, now) + self._interval
            operation = self._rng.choices(self._operations, self._weights)[0]
            login = self._rng.choice(self._cast.logins)
            with contextlib.suppress(RequestFailedError):  # recorded where it happened
                self._do(operation, login)

    def _do(self, operation: str, login: str) -> None:
        if operation == "list threads":
            self._list_threads(login)
        elif operation == "badge":
            self._call("badge", "GET", "/messaging/me/badge", login)
        elif operation in ("list messages", "get thread"):
            known = self._traffic.a_thread_of(login, self._rng)
            if known is None:
                self._list_threads(login)
            elif operation == "get thread":
                self._call("get thread", "GET", f"/messaging/threads/{known[0]}", login)
            else:
                self._call("list messages", "GET", f"/messaging/threads/{known[0]}/messages?limit=20", login)
        elif operation == "write in thread":
            known = self._traffic.a_thread_of(login, self._rng)
            if known is None:
                self._new_conversation()
            else:
                self._send("write in thread", login, known[1], f"/messaging/threads/{known[0]}/messages", {})
        else:
            self._new_conversation()

    def _list_threads(self, login: str) -> None:
        body = self._call("list threads", "GET", "/messaging/threads?limit=20", login).json()
        for thread in body["threads"]:
            if interlocutor := (thread.get("interlocutor") or {}).get("login"):
                self._traffic.learn(login, thread["id"], interlocutor)

    def _new_conversation(self) -> None:
        if self._rng.random() < 0.5:
            buyer, offer_id, seller = self._rng.choice(self._cast.questions)
            self._send("new conversation", buyer, seller, "/messaging/messages", {"offer": {"id": offer_id}})
        else:
            seller, buyer, order_id = self._rng.choice(self._cast.order_messages)
            request = {"recipient": {"login": buyer}, "order": {"id": order_id}}
            self._send("new conversation", seller, buyer, "/messaging/messages", request)

    def _send(self, operation: str, author: str, recipient: str, path: str, request: dict[str, Any]) -> None:
        self._sends += 1
        request = {**request, "text": f"Wiadomość testowa nr {self._sends} od {author}."}
        if self._sends % ATTACHMENT_EVERY_NTH_SEND == 0:
            declared = self._call(
                "declare attachment",
                "POST",
                "/messaging/message-attachments",
                author,
                json={"filename": "zdjecie.png", "size": len(self._png)},
                expected=201,
            ).json()
            self._call(
                "upload attachment",
                "PUT",
                f"/messaging/message-attachments/{declared['id']}",
                author,
                data=self._png,
                content_type="image/png",
            )
            request["attachments"] = [{"id": declared["id"]}]
        body = self._call(operation, "POST", path, author, json=request, expected=201).json()
        self._traffic.record_send(Sent(body["id"], author, recipient, time.time()), body["thread"]["id"])

    def _call(
        self,
        operation: str,
        method: str,
        path: str,
        login: str,
        *,
        json: Any = None,
        data: bytes | None = None,
        content_type: str = VND,
        expected: int = 200,
    ) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._tokens[login]}", "Accept": VND}
        if json is not None or data is not None:
            headers["Content-Type"] = content_type
        started = time.perf_counter()
        try:
            response = self._session.request(
                method, f"{self._api}{path}", json=json, data=data, headers=headers, timeout=REQUEST_TIMEOUT_SECONDS
            )
        except requests.RequestException as error:
            self._tally.record(operation, time.perf_counter() - started, type(error).__name__)
            raise RequestFailedError(operation) from error
        elapsed = time.perf_counter() - started
        if response.status_code != expected:
            self._tally.record(operation, elapsed, f"{response.status_code} {response.text[:200]}")
            raise RequestFailedError(operation)
        self._tally.record(operation, elapsed)
        return response


# -- the watcher: developer pages and cancelled transactions ---------------------------------


@dataclass
class WatchResult:
    cancelled_transactions: int = 0
    left_behind: int = 0  # items of a cancelled transaction found afterwards: must stay 0
    unexpected: list[str] = field(default_factory=list)


def watch(state: RuntimeState, tally: Tally, deadline: float, result: WatchResult) -> None:
    """Until ``deadline``: read the outbox and push pages, and cancel a transaction, every few seconds."""
    session = requests.Session()
    dynamodb = emulator.client("dynamodb", state.aws_endpoint_url, state.region)
    probe = 0
    while time.monotonic() < deadline:
        for page, url in (("GET /_local/outbox", state.outbox_url), ("GET /_local/push", state.push_url)):
            started = time.perf_counter()
            try:
                response = session.get(url, timeout=REQUEST_TIMEOUT_SECONDS)
                error = None if response.status_code == 200 else f"{response.status_code} {response.text[:200]}"
            except requests.RequestException as failure:
                error = type(failure).__name__
            tally.record(page, time.perf_counter() - started, error)
        probe += 1
        _cancelled_transaction(dynamodb, state.table_name, probe, result)
        time.sleep(WATCH_EVERY_SECONDS)


def _cancelled_transaction(dynamodb: Any, table: str, probe: int, result: WatchResult) -> None:
    """A put of a new message copy, then a condition that fails: nothing may stay, nothing may be notified."""
    key = {"pk": {"S": f"MBOX#soak-probe#{probe}"}, "sk": {"S": "MSG#soak-probe"}}
    try:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": table, "Item": {**key, "text": {"S": "never stored"}}}},
                {
                    "ConditionCheck": {
                        "TableName": table,
                        "Key": {"pk": {"S": "SOAK#absent"}, "sk": {"S": "SOAK#absent"}},
                        "ConditionExpression": "attribute_exists(pk)",
                    }
                },
            ]
        )
        result.unexpected.append(f"probe {probe}: the transaction committed")
    except ClientError as error:
        if error.response["Error"]["Code"] != "TransactionCanceledException":
            result.unexpected.append(f"probe {probe}: {error.response['Error']['Code']}")
            return
        result.cancelled_transactions += 1
    if "Item" in dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True):
        result.left_behind += 1


# -- notifications ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    sends: int
    emailed: int
    pushed: int
    seconds_to_drain: float
    # For each send notified both ways, in sending order: seconds from its answer until the later of
    # its e-mail and its push was sent (the outbox's seenAt).
    latencies: list[float] = field(default_factory=list)


def device_token(login: str) -> str:
    """The user's push device: 64 hex digits, like an APNs token."""
    return hashlib.sha256(f"soak-device-{login}".encode()).hexdigest()


def check_notifications(state: RuntimeState, cast: Cast, sent: list[Sent], wait_seconds: float) -> Delivery:
    """Wait (up to ``wait_seconds``) until each send's recipient has its e-mail copy and push."""
    started = time.monotonic()
    emailed: dict[str, float] = {}
    pushed: dict[str, float] = {}
    while True:
        with contextlib.suppress(requests.RequestException, ValueError):  # a failing page: look again
            emailed = _emailed(requests.get(state.outbox_url, timeout=REQUEST_TIMEOUT_SECONDS), state, cast, sent)
            pushed = _pushed(requests.get(state.push_url, timeout=REQUEST_TIMEOUT_SECONDS), sent)
        if len(emailed) == len(pushed) == len(sent) or time.monotonic() - started > wait_seconds:
            latencies = [
                max(emailed[send.message_id], pushed[send.message_id]) - send.at
                for send in sent
                if send.message_id in emailed and send.message_id in pushed
            ]
            return Delivery(len(sent), len(emailed), len(pushed), time.monotonic() - started, latencies)
        time.sleep(2)


def _emailed(outbox: requests.Response, state: RuntimeState, cast: Cast, sent: list[Sent]) -> dict[str, float]:
    """The sends whose e-mail copy (by its Message-ID) went to the recipient's address, each with
    when it was sent (epoch seconds)."""
    outbox.raise_for_status()
    emails = outbox.json()
    mailed_to = {
        (email["messageId"], address.lower()): _epoch(email["seenAt"])
        for email in emails
        for address in email["envelope"]["to"]
    }
    found: dict[str, float] = {}
    for send in sent:
        key = (f"<message-{send.message_id.lower()}@{state.relay_domain}>", cast.emails[send.recipient].lower())
        if key in mailed_to:
            found[send.message_id] = mailed_to[key]
    return found


def _pushed(push_log: requests.Response, sent: list[Sent]) -> dict[str, float]:
    """The sends pushed (by ``messageId``) to the recipient's device, each with when (epoch seconds)."""
    push_log.raise_for_status()
    pushed_to = {
        (str(push["message"].get("messageId")), push["token"]): _epoch(push["seenAt"])
        for push in push_log.json()
        if isinstance(push.get("message"), dict)
    }
    found: dict[str, float] = {}
    for send in sent:
        key = (send.message_id, device_token(send.recipient))
        if key in pushed_to:
            found[send.message_id] = pushed_to[key]
    return found


def _epoch(iso: str) -> float:
    """``2026-11-26T16:45:40.123Z`` (the outbox's seenAt) in epoch seconds."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# -- the run ---------------------------------------------------------------------------------


@dataclass
class SoakResult:
    seconds: float
    clients: int
    rate: float
    tally: Tally
    watch: WatchResult
    delivery: Delivery
    dead_letters: int
    rss_after_setup_mb: float
    rss_peak_mb: float
    rss_end_mb: float
    cpu_seconds: float = 0.0  # the serve process's processor time during the load
    load_average: tuple[float, float] = (0.0, 0.0)  # the machine's (1 minute), as the load starts and ends

    @property
    def api_requests(self) -> int:
        return len(self.api_latencies)

    @property
    def api_latencies(self) -> list[float]:
        api = [values for operation, values in self.tally.latencies.items() if not operation.startswith("GET /_")]
        return [value for values in api for value in values]

    @property
    def goals_met(self) -> bool:
        return (
            self.tally.error_count == 0
            and not self.watch.unexpected
            and self.watch.left_behind == 0
            and self.dead_letters == 0
            and self.rss_peak_mb < RSS_GOAL_MB
            and self.delivery.emailed == self.delivery.pushed == self.delivery.sends
        )


def sign_in(state: RuntimeState, cast: Cast) -> dict[str, str]:
    """An access token for every demo user, each with one push device registered."""
    resources = emulator.resources_of(state)
    tokens: dict[str, str] = {}
    for login in cast.logins:
        issued = emulator.issue_tokens(state.aws_endpoint_url, state.region, resources, login, DEV_PASSWORD)
        tokens[login] = issued["AccessToken"]
        requests.post(
            f"{state.api_url}/messaging/devices",
            json={"platform": "APNS", "token": device_token(login)},
            headers={"Authorization": f"Bearer {tokens[login]}"},
            timeout=REQUEST_TIMEOUT_SECONDS,
        ).raise_for_status()
    return tokens


def soak(
    seconds: float, clients: int, rate: float = DEFAULT_RATE, progress: Callable[[str], None] = print
) -> SoakResult:
    """Start ``serve``, load it for ``seconds`` with ``clients`` clients of ``rate`` operations a
    second each and the watcher, then check."""
    cast = Cast.from_directory()
    with tempfile.TemporaryDirectory(prefix="message-center-soak-") as workdir, serve(Path(workdir)) as running:
        process, state = running
        tokens = sign_in(state, cast)
        memory = ProcessMemory(process.pid)
        rss_after_setup = memory.rss_mb()
        tally, traffic, watched = Tally(), Traffic(), WatchResult()
        load_at_start, cpu_at_start = _load_average(), memory.cpu_seconds()
        started = time.monotonic()
        deadline = started + seconds
        loads = [
            Client(number, state.api_url, tokens, cast, traffic, tally, deadline, rate) for number in range(clients)
        ]
        threads = [threading.Thread(target=load.run, name=f"client-{n}") for n, load in enumerate(loads)]
        threads.append(threading.Thread(target=watch, args=(state, tally, deadline, watched), name="watcher"))
        for thread in threads:
            thread.start()
        report_at = started + PROGRESS_EVERY_SECONDS
        while any(thread.is_alive() for thread in threads):
            time.sleep(1)
            if time.monotonic() >= report_at:
                report_at += PROGRESS_EVERY_SECONDS
                progress(
                    f"  {time.monotonic() - started:5.0f} s: {tally.requests:,} requests, {tally.error_count} errors, "
                    f"{len(traffic.sent):,} sends, RSS {memory.rss_mb():.0f} MB"
                )
        elapsed = time.monotonic() - started
        load_at_end, cpu_seconds = _load_average(), memory.cpu_seconds() - cpu_at_start
        progress("  load done; waiting for the notifications ...")
        delivery = check_notifications(state, cast, traffic.sent, DRAIN_SECONDS)
        dead_letters = len(requests.get(state.dead_letters_url, timeout=REQUEST_TIMEOUT_SECONDS).json())
        return SoakResult(
            seconds=elapsed,
            clients=clients,
            rate=rate,
            tally=tally,
            watch=watched,
            delivery=delivery,
            dead_letters=dead_letters,
            rss_after_setup_mb=rss_after_setup,
            rss_peak_mb=memory.peak_mb(),
            rss_end_mb=memory.rss_mb(),
            cpu_seconds=cpu_seconds,
            load_average=(load_at_start, load_at_end),
        )


def _load_average() -> float:
    try:
        return os.getloadavg()[0]
    except OSError:  # not available on this platform
        return 0.0


# -- the report ------------------------------------------------------------------------------


def render(result: SoakResult) -> str:
    tally = result.tally
    api = result.api_latencies
    overall = f", p50 {_ms(api, 0.5)} ms, p99 {_ms(api, 0.99)} ms" if api else ""
    lines = [
        f"{result.seconds:.0f} s, {result.clients} clients ({_pace(result.rate)}) + the watcher, on loopback; "
        f"{result.api_requests:,} API requests, {result.api_requests / result.seconds:.1f} requests/s{overall}.",
        "",
        "| operation | requests | p50 ms | p99 ms | errors |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    order = [name for name, _ in (*READS, *SENDS)] + ["declare attachment", "upload attachment"]
    order += sorted(set(tally.latencies) - set(order))
    for operation in order:
        values = tally.latencies.get(operation)
        if not values:
            continue
        lines.append(
            f"| {operation} | {len(values):,} | {statistics.median(values) * 1000:.0f} "
            f"| {percentile(values, 0.99) * 1000:.0f} | {len(tally.errors.get(operation, []))} |"
        )
    delivery, watched = result.delivery, result.watch
    lines += [
        "",
        f"- errors: {tally.error_count}",
        f"- serve process RSS: {result.rss_after_setup_mb:.0f} MB after setup, peak {result.rss_peak_mb:.0f} MB, "
        f"{result.rss_end_mb:.0f} MB at the end (goal: under {RSS_GOAL_MB} MB)",
        f"- serve process CPU: {result.cpu_seconds:.0f} s during the load, "
        f"{result.cpu_seconds * 1000 / max(1, result.api_requests):.1f} ms per API request; machine load average "
        f"{result.load_average[0]:.1f} as the load started, {result.load_average[1]:.1f} as it ended "
        f"({os.cpu_count()} CPUs)",
        f"- sends notified: {delivery.emailed:,} of {delivery.sends:,} by e-mail, {delivery.pushed:,} of "
        f"{delivery.sends:,} by push ({delivery.seconds_to_drain:.0f} s after the load stopped)",
        f"- send → notification (until both its e-mail and its push were sent): {_latency(delivery.latencies)}",
        f"- cancelled transactions: {watched.cancelled_transactions}, items left behind: {watched.left_behind}; "
        f"stream dead letters: {result.dead_letters}",
        f"- goals (0 errors, RSS under {RSS_GOAL_MB} MB, every send notified): "
        f"{'met' if result.goals_met else 'MISSED'}",
    ]
    for operation, errors in sorted(tally.errors.items()):
        lines.append(f"- {operation}: {len(errors)} errors, first: {errors[0]}")
    lines += [f"- watcher: {problem}" for problem in watched.unexpected]
    return "\n".join(lines)


def _ms(values: list[float], fraction: float) -> str:
    return f"{percentile(values, fraction) * 1000:,.0f}"


def _latency(latencies: list[float]) -> str:
    """p50/p99 over the run, and over its first and last thirds (in sending order)."""
    if not latencies:
        return "none measured"
    third = max(1, len(latencies) // 3)
    first, last = latencies[:third], latencies[-third:]
    return (
        f"p50 {_ms(latencies, 0.5)} ms, p99 {_ms(latencies, 0.99)} ms; first third of the sends "
        f"p50 {_ms(first, 0.5)} / p99 {_ms(first, 0.99)} ms, last third p50 {_ms(last, 0.5)} / p99 {_ms(last, 0.99)} ms"
    )


def _pace(rate: float) -> str:
    return f"at most {rate:g} operations/s each" if rate > 0 else "as fast as answered"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=float, default=DEFAULT_SECONDS, help="how long to load (default 600)")
    parser.add_argument("--clients", type=int, default=DEFAULT_CLIENTS, help="concurrent clients (default 4)")
    parser.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help=f"operations a second per client (default {DEFAULT_RATE:g}; 0: as fast as answered)",
    )
    arguments = parser.parse_args(argv)
    print(f"Machine: Python {platform.python_version()} on {platform.platform()}, {os.cpu_count()} CPUs\n", flush=True)
    result = soak(arguments.seconds, arguments.clients, arguments.rate, progress=lambda line: print(line, flush=True))
    print()
    print(render(result))
    return 0 if result.goals_met else 1


if __name__ == "__main__":
    sys.exit(main())
