"""``message-center smoke``: the README's buyer/seller exchange against a running Message Center.

Two users sign in (the buyer asks about an offer, the seller owns it), and then, one line per step:
the buyer registers a device for push, uploads an attachment and asks a question with it; the seller
finds the thread, downloads the attachment (byte for byte what was uploaded) and answers; the buyer
reads the answer and marks the thread read. Then what was checked on the side channels:

- the e-mail copy of the question to the seller: locally, in the local runtime's outbox (an e-mail
  whose text carries this run's marker); deployed, SES's sends are not observable from here, so the
  step is SKIP (give the smoke users a mailbox you read, or SES's mailbox simulator
  success@simulator.amazonses.com, which accepts and drops mail, and watch MessageNotified);
- the push to the buyer's device: locally, in the local runtime's push log (a publish to the token
  this run registered); deployed, only that the device was registered (SNS delivery to a made-up
  token cannot be observed), and SKIP when the stack has no push configured.

Finally it cleans up what it created: both messages deleted for both users ("delete for me"), the
device unregistered. What the API cannot delete stays: the thread (empty for both users) and the
attachment's stored file, reachable only through the deleted message.

The first failing step stops the run (cleanup still runs) and the exit status is 1.
"""

from __future__ import annotations

import io
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import requests

MEDIA_TYPE = "application/vnd.allegro.public.v1+json"
EXIT_FAILED = 1
POLL_SECONDS = 30.0
TIMEOUT = 15


@dataclass(frozen=True)
class Account:
    login: str
    password: str


@dataclass(frozen=True)
class Target:
    """Where the Message Center runs and how its users sign in.

    ``sign_in(account)`` returns an access token. ``outbox_url`` and ``push_url`` (the local
    runtime's developer endpoints) are None for a deployed stack.
    """

    api_url: str
    sign_in: Callable[[Account], str]
    buyer: Account
    seller: Account
    offer_id: str
    outbox_url: str | None = None
    push_url: str | None = None


class Skipped(Exception):
    """A step that does not apply to this stack (reported as SKIP, the run goes on)."""


class StepFailed(Exception):
    """A step's check failed; the message says what was expected and what came."""


@dataclass
class Report:
    """One line per step: PASS/FAIL/SKIP, the step, what was seen, how long it took."""

    write: Callable[[str], None] = print
    failed: bool = False
    lines: list[str] = field(default_factory=list)

    @contextmanager
    def step(self, name: str) -> Iterator[list[str]]:
        """Run the body as step ``name``; it may append notes, or raise Skipped. A failure is
        recorded and re-raised."""
        notes: list[str] = []
        started = time.monotonic()
        try:
            yield notes
        except Skipped as skipped:
            self.skip(name, str(skipped))
            return
        except (StepFailed, requests.RequestException) as error:
            self._line("FAIL", name, str(error), started)
            self.failed = True
            raise
        self._line("PASS", name, "; ".join(notes), started)

    def skip(self, name: str, why: str) -> None:
        self._line("SKIP", name, why, None)

    def _line(self, outcome: str, name: str, note: str, started: float | None) -> None:
        took = f"{time.monotonic() - started:5.2f}s" if started is not None else "     -"
        line = f"{outcome}  {took}  {name}" + (f"  ({note})" if note else "")
        self.lines.append(line)
        self.write(line)


class Api:
    """The Message Center API as one signed-in user."""

    def __init__(self, api_url: str, token: str) -> None:
        self._url = api_url.rstrip("/")
        self._session = requests.Session()
        self._session.headers.update({"Authorization": f"Bearer {token}", "Accept": MEDIA_TYPE})

    def call(
        self, method: str, path: str, expected: int, refused: tuple[int, str] | None = None, **kwargs: Any
    ) -> requests.Response:
        """The response, when its status is ``expected`` (or the ``refused`` (status, code) answer)."""
        response = self._session.request(method, f"{self._url}{path}", timeout=TIMEOUT, **kwargs)
        if refused is not None and response.status_code == refused[0] and _code(response) == refused[1]:
            return response
        if response.status_code != expected:
            raise StepFailed(f"{method} {path}: expected {expected}, got {response.status_code} {response.text[:300]}")
        return response

    def json(self, method: str, path: str, expected: int, body: Any = None) -> Any:
        headers = {"Content-Type": MEDIA_TYPE} if body is not None else {}
        response = self.call(method, path, expected, json=body, headers=headers)
        return response.json() if response.content else None


_PUSH_OFF = (422, "PUSH_NOT_CONFIGURED")


def _code(response: requests.Response) -> str | None:
    try:
        return str(response.json().get("code"))
    except (ValueError, AttributeError):
        return None


@dataclass
class Created:
    """What this run made, for the cleanup."""

    messages: list[str] = field(default_factory=list)
    device_id: str | None = None


def run(target: Target, write: Callable[[str], None] = print) -> int:
    """Walk the exchange against ``target``; 0 when every step passed, else 1."""
    report = Report(write)
    marker = f"smoke-{secrets.token_hex(4)}"
    created = Created()
    apis: dict[str, Api] = {}
    try:
        _exchange(target, report, marker, created, apis)
    except (StepFailed, requests.RequestException):
        pass
    finally:
        _clean_up(report, created, apis)
    write(f"{'FAILED' if report.failed else 'OK'}: {len(report.lines)} steps, run {marker}")
    return EXIT_FAILED if report.failed else 0


def _exchange(target: Target, report: Report, marker: str, created: Created, apis: dict[str, Api]) -> None:
    for role, account in (("buyer", target.buyer), ("seller", target.seller)):
        with report.step(f"sign in the {role} {account.login}"):
            try:
                token = target.sign_in(account)
            except Exception as error:  # every sign-in failure (wrong password, unknown user, network)
                raise StepFailed(f"{type(error).__name__}: {error}") from error
            apis[role] = Api(target.api_url, token)
    buyer, seller = apis["buyer"], apis["seller"]

    push_token = secrets.token_hex(32)  # the shape of an APNs token, and a valid FCM one
    with report.step("the buyer registers a device for push") as notes:
        for platform in ("APNS", "FCM"):  # whichever the stack has configured
            registered = buyer.call(
                "POST", "/messaging/devices", 201, json={"platform": platform, "token": push_token}, refused=_PUSH_OFF
            )
            if registered.status_code == 201:
                created.device_id = registered.json()["id"]
                notes.append(f"{platform} device {created.device_id}")
                break
        else:
            raise Skipped("push is not configured on this stack")

    content = _png(marker)
    with report.step("the buyer uploads an attachment") as notes:
        declared = buyer.json(
            "POST", "/messaging/message-attachments", 201, {"filename": f"{marker}.png", "size": len(content)}
        )
        attachment_id = declared["id"]
        buyer.call(
            "PUT",
            f"/messaging/message-attachments/{attachment_id}",
            200,
            data=content,
            headers={"Content-Type": "image/png"},
        )
        notes.append(f"{len(content)} bytes, attachment {attachment_id}")

    question = f"Is this available right away? ({marker})"
    with report.step("the buyer asks about the offer, with the attachment") as notes:
        sent = buyer.json(
            "POST",
            "/messaging/messages",
            201,
            {"offer": {"id": target.offer_id}, "text": question, "attachments": [{"id": attachment_id}]},
        )
        created.messages.append(sent["id"])
        thread_id = sent["thread"]["id"]
        notes.append(f"thread {thread_id}, message {sent['id']}")

    with report.step("the seller reads the question and downloads the attachment") as notes:
        page = seller.json("GET", f"/messaging/threads/{thread_id}/messages", 200)
        texts = [message["text"] for message in page["messages"]]
        if question not in texts:
            raise StepFailed(f"the question is not in the seller's thread (saw {len(texts)} messages)")
        redirect = seller.call("GET", f"/messaging/message-attachments/{attachment_id}", 302, allow_redirects=False)
        downloaded = requests.get(redirect.headers["Location"], timeout=TIMEOUT)
        if downloaded.status_code != 200 or downloaded.content != content:
            raise StepFailed(f"the download differs from the upload (HTTP {downloaded.status_code})")
        notes.append(f"{len(downloaded.content)} identical bytes")

    _check_mail(target, report, marker)

    answer = f"Yes, it ships within 24 hours. ({marker})"
    with report.step("the seller answers in the thread") as notes:
        reply = seller.json("POST", f"/messaging/threads/{thread_id}/messages", 201, {"text": answer})
        created.messages.append(reply["id"])
        notes.append(f"message {reply['id']}")

    with report.step("the buyer reads the answer and marks the thread read") as notes:
        page = buyer.json("GET", f"/messaging/threads/{thread_id}/messages", 200)
        if answer not in [message["text"] for message in page["messages"]]:
            raise StepFailed("the answer is not in the buyer's thread")
        buyer.json("PUT", f"/messaging/threads/{thread_id}/read", 200, {"read": True})
        notes.append("read")

    _check_push(target, report, push_token if created.device_id else None)


def _check_mail(target: Target, report: Report, marker: str) -> None:
    name = "the seller got the e-mail copy of the question"
    if target.outbox_url is None:
        report.skip(name, "deployed: SES sends are not observable here; see `message-center smoke --help`")
        return
    outbox_url = target.outbox_url
    with report.step(name) as notes:
        mail = _poll(lambda: [m for m in _get_json(outbox_url) if marker in (m.get("text") or "")])
        notes.append(f"to {', '.join(mail[0]['envelope']['to'])}, subject {mail[0].get('subject')!r}")


def _check_push(target: Target, report: Report, push_token: str | None) -> None:
    name = "the buyer's device got a push for the answer"
    if push_token is None:
        report.skip(name, "no device registered")
        return
    if target.push_url is None:
        report.skip(name, "deployed: SNS delivery to the smoke's made-up device token is not observable")
        return
    push_url = target.push_url
    with report.step(name) as notes:
        pushes = _poll(lambda: [p for p in _get_json(push_url) if p.get("token") == push_token])
        notes.append(f"{len(pushes)} push(es) to {pushes[0]['platform']}")


def _clean_up(report: Report, created: Created, apis: dict[str, Api]) -> None:
    for role, api in apis.items():
        if not created.messages:
            break
        with _continuing(), report.step(f"clean up: delete the messages for the {role}") as notes:
            for message_id in created.messages:
                api.call("DELETE", f"/messaging/messages/{message_id}", 204)
            notes.append(f"{len(created.messages)} deleted")
    if created.device_id is not None and "buyer" in apis:
        with _continuing(), report.step("clean up: unregister the buyer's device"):
            apis["buyer"].call("DELETE", f"/messaging/devices/{created.device_id}", 204)


@contextmanager
def _continuing() -> Iterator[None]:
    """A failed cleanup step is reported (and fails the run) without stopping the others."""
    with suppress(StepFailed, requests.RequestException):
        yield


def _poll(found: Callable[[], list[Any]], seconds: float = POLL_SECONDS) -> list[Any]:
    """What ``found`` returns once it is non-empty (the stream delivers within seconds)."""
    deadline = time.monotonic() + seconds
    while True:
        result = found()
        if result:
            return result
        if time.monotonic() > deadline:
            raise StepFailed(f"nothing arrived within {seconds:.0f} s")
        time.sleep(0.5)


def _get_json(url: str) -> list[Any]:
    response = requests.get(url, timeout=TIMEOUT)
    response.raise_for_status()
    document: list[Any] = response.json()
    return document


def _png(marker: str) -> bytes:
    """A small PNG made for this run (its text chunk carries the marker, so each run's bytes differ)."""
    from PIL import Image
    from PIL.PngImagePlugin import PngInfo

    image = Image.new("RGB", (24, 16), (0, 105, 80))
    info = PngInfo()
    info.add_text("Comment", marker)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", pnginfo=info)
    return buffer.getvalue()


# --- signing in ---------------------------------------------------------------------------------


def srp_sign_in(user_pool_id: str, client_id: str, endpoint_url: str | None = None) -> Callable[[Account], str]:
    """Sign in with SRP (USER_SRP_AUTH), the flow the deployed app client allows: the password
    never leaves this process. The region is the user pool id's prefix."""
    import boto3
    from pycognito.aws_srp import AWSSRP

    region = user_pool_id.split("_", 1)[0]
    client = boto3.client("cognito-idp", region_name=region, endpoint_url=endpoint_url)

    def sign_in(account: Account) -> str:
        tokens = AWSSRP(account.login, account.password, user_pool_id, client_id, client=client).authenticate_user()
        if "AuthenticationResult" not in tokens:
            raise StepFailed(f"Cognito asks for {tokens.get('ChallengeName')} (a new password or MFA): sign in once")
        return str(tokens["AuthenticationResult"]["AccessToken"])

    return sign_in


def password_sign_in(client_id: str, region: str, endpoint_url: str) -> Callable[[Account], str]:
    """Sign in with USER_PASSWORD_AUTH: the local runtime's app client allows it, and the
    emulator checks passwords this way (it accepts any SRP proof)."""
    from local_runtime import emulator

    client = emulator.client("cognito-idp", endpoint_url, region)

    def sign_in(account: Account) -> str:
        result = client.initiate_auth(
            ClientId=client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": account.login, "PASSWORD": account.password},
        )
        return str(result["AuthenticationResult"]["AccessToken"])

    return sign_in


# --- the command --------------------------------------------------------------------------------

USER_POOL_ENV, CLIENT_ENV = "MESSAGE_CENTER_USER_POOL_ID", "MESSAGE_CENTER_APP_CLIENT_ID"


def add_parser(commands: Any) -> None:
    """``message-center smoke`` on the CLI's subcommands."""
    import argparse

    smoke = commands.add_parser(
        "smoke",
        help="walk the buyer/seller exchange against a running Message Center (local or deployed)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    where = smoke.add_mutually_exclusive_group(required=True)
    where.add_argument("--api-url", metavar="URL", help="a deployed API, e.g. https://api.example.com")
    where.add_argument(
        "--local",
        action="store_true",
        help="the local runtime: the running `message-center serve` (its state file), else one started for the run",
    )
    smoke.add_argument("--user", metavar="LOGIN", help="the buyer (local default: anna_kowalska)")
    smoke.add_argument("--password", metavar="PASSWORD", help="the buyer's password (local default: the dev one)")
    smoke.add_argument("--second-user", metavar="LOGIN", help="the seller of --offer (local default: dom-i-ogrod-pl)")
    smoke.add_argument("--second-password", metavar="PASSWORD", help="the seller's password")
    smoke.add_argument(
        "--offer", metavar="ID", help="the seller's offer the buyer asks about (local default: 12790441001)"
    )
    smoke.add_argument(
        "--user-pool-id", metavar="ID", help=f"deployed: the Cognito user pool (default: ${USER_POOL_ENV})"
    )
    smoke.add_argument("--client-id", metavar="ID", help=f"deployed: its app client (default: ${CLIENT_ENV})")
    smoke.set_defaults(run=command)


def command(arguments: Any) -> int:
    """Run the smoke as the CLI's arguments say; 2 when they are incomplete."""
    import os
    import sys

    if arguments.local:
        return _run_local(arguments)
    pool = arguments.user_pool_id or os.environ.get(USER_POOL_ENV)
    client_id = arguments.client_id or os.environ.get(CLIENT_ENV)
    missing = [
        option
        for option, value in (
            ("--user", arguments.user),
            ("--password", arguments.password),
            ("--second-user", arguments.second_user),
            ("--second-password", arguments.second_password),
            ("--offer", arguments.offer),
            (f"--user-pool-id (or ${USER_POOL_ENV})", pool),
            (f"--client-id (or ${CLIENT_ENV})", client_id),
        )
        if not value
    ]
    if missing:
        print(f"error: against a deployed API the smoke needs {', '.join(missing)}", file=sys.stderr)
        return 2
    target = Target(
        api_url=arguments.api_url,
        sign_in=srp_sign_in(pool, client_id),  # type: ignore[arg-type]  # checked above
        buyer=Account(arguments.user, arguments.password),
        seller=Account(arguments.second_user, arguments.second_password),
        offer_id=arguments.offer,
    )
    return run(target)


def _run_local(arguments: Any) -> int:
    from local_runtime.cli import DEMO_BUYER, DEMO_OFFER, DEMO_SELLER
    from local_runtime.directory import DEV_PASSWORD
    from local_runtime.state import RuntimeNotRunningError, RuntimeState, default_state_path, read_state

    def target_of(running: RuntimeState) -> Target:
        return Target(
            api_url=running.api_url,
            sign_in=password_sign_in(running.user_pool_client_id, running.region, running.aws_endpoint_url),
            buyer=Account(arguments.user or DEMO_BUYER, arguments.password or DEV_PASSWORD),
            seller=Account(arguments.second_user or DEMO_SELLER, arguments.second_password or DEV_PASSWORD),
            offer_id=arguments.offer or DEMO_OFFER,
            outbox_url=running.outbox_url,
            push_url=running.push_url,
        )

    try:
        running = read_state(default_state_path())
    except RuntimeNotRunningError:
        pass
    else:
        print(f"Local runtime at {running.api_url} (state file {default_state_path()})", flush=True)
        return run(target_of(running))
    import contextlib
    import os
    import sys
    import warnings

    from local_runtime.runtime import LocalRuntime

    print("No local runtime is running: starting one for this run", flush=True)
    report_to = sys.stdout
    # The functions run in this process: their logs and metrics (stdout) would bury the report.
    with open(os.devnull, "w") as quiet, contextlib.redirect_stdout(quiet), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        runtime = LocalRuntime(port=0, aws_port=0, smtp_port=None)
        started = runtime.start()
        try:
            return run(target_of(started), write=lambda line: print(line, file=report_to, flush=True))
        finally:
            runtime.stop()
