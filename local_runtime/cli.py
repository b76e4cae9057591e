"""``message-center``: run the Message Center locally and manage its directory.

message-center serve                 start the local stack (Ctrl-C stops it)
message-center token LOGIN           print an access token for a user of the running stack
message-center directory load FILE   load users, offers and orders (locally or into AWS)
message-center smoke --local         walk the buyer/seller exchange (also: --api-url URL for a deployed one)
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import importlib.util
import json
import logging
import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from message_center.adapters.cognito import Invitations

_ROOT = Path(__file__).resolve().parent.parent
EXIT_ERROR = 1
EXIT_INVALID = 2
_M_ARENA_MAX = -8  # mallopt(3)


def main(argv: list[str] | None = None) -> int:
    _ensure_project_importable()
    parser = _build_parser()
    arguments = parser.parse_args(argv)
    if not hasattr(arguments, "run"):
        parser.print_help()
        return EXIT_INVALID
    result: int = arguments.run(arguments)
    return result


def _ensure_project_importable() -> None:
    # Run from a checkout without `pip install -e .`: the shared package lives in layers/ and the
    # handlers in functions/, as in the Lambda layout.
    if importlib.util.find_spec("message_center") is None and (_ROOT / "layers").is_dir():
        sys.path.insert(0, str(_ROOT / "layers"))
    if str(_ROOT) not in sys.path and (_ROOT / "functions").is_dir():
        sys.path.insert(0, str(_ROOT))


def _build_parser() -> argparse.ArgumentParser:
    from local_runtime.directory import DEMO_DIRECTORY, DEV_PASSWORD
    from local_runtime.runtime import DEFAULT_HANDLER
    from local_runtime.state import STATE_FILE_ENV, default_state_path
    from local_runtime.stream_poller import DEFAULT_STREAM_HANDLER

    parser = argparse.ArgumentParser(
        prog="message-center",
        description=__doc__.replace("``", ""),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    serve = commands.add_parser(
        "serve",
        help="start the local stack: AWS emulator, HTTP API and demo users",
        description=(
            "Start an embedded AWS emulator (moto server), create the DynamoDB table, the Cognito user pool "
            "and app client, the attachments bucket and the notification resources (idempotency table, SES "
            "relay domain, reply-token secret, SNS push applications), load the demo directory, and serve "
            "the HTTP API by turning each request into an API Gateway HTTP API (payload 2.0) event for the "
            "real API handler, after a JWT authorizer check. New messages reach the stream handler through "
            "the table's stream, in batches like a Lambda event source mapping; the e-mails and pushes it "
            "sends are listed under /_local/outbox and /_local/push on the API's port, and each e-mail is "
            "also written as an .eml file to the outbox folder. A local SMTP server (--smtp-port) stands in "
            "for SES receiving: mail to the relay domain is stored in the inbound mail bucket and handed to "
            "the inbound mail handler in a real-shaped SES event (verdicts PASS; a header like "
            "'X-Local-Verdicts: spf=FAIL, dkim=FAIL, dmarc=FAIL, dmarcPolicy=reject' sets others). "
            f"Every loaded user gets the password {DEV_PASSWORD!r}. Ports and ids are written to "
            f"{default_state_path()} (override with ${STATE_FILE_ENV}) so that `token` and "
            "`directory load --local` find the running stack. Ctrl-C stops it."
        ),
    )
    serve.add_argument("--port", type=int, default=8000, help="HTTP API port (default 8000; 0: any free port)")
    serve.add_argument("--aws-port", type=int, default=5100, help="AWS emulator port (default 5100; 0: any)")
    serve.add_argument(
        "--smtp-port",
        type=int,
        default=2525,
        help="SMTP port receiving mail for the relay domain, like SES (default 2525; 0: any free port)",
    )
    serve.add_argument(
        "--directory",
        type=Path,
        default=DEMO_DIRECTORY,
        metavar="FILE",
        help="directory JSON to load at start (default: the bundled demo directory)",
    )
    serve.add_argument(
        "--handler",
        default=DEFAULT_HANDLER,
        metavar="MODULE:FUNCTION",
        help=f"the Lambda handler behind the API (default {DEFAULT_HANDLER})",
    )
    serve.add_argument(
        "--stream-handler",
        default=DEFAULT_STREAM_HANDLER,
        metavar="MODULE:FUNCTION",
        help=(
            f"the Lambda handler fed by the table's stream (default {DEFAULT_STREAM_HANDLER}; 'none': no stream poller)"
        ),
    )
    serve.add_argument(
        "--outbox",
        type=Path,
        metavar="DIR",
        help="folder for the .eml files of sent e-mails (default: outbox/ next to the state file)",
    )
    serve.add_argument("--quiet", action="store_true", help="do not log each request and stream batch")
    serve.set_defaults(run=_serve)

    token = commands.add_parser(
        "token",
        help="print an access token for a user of the running local stack",
        description=(
            "Sign LOGIN in to the running local stack's user pool (ADMIN_USER_PASSWORD_AUTH with the local "
            "dev password) and print the access token, ready for `Authorization: Bearer ...`. "
            'Example: TOKEN=$(message-center token anna_kowalska); curl -H "Authorization: Bearer $TOKEN" '
            "http://127.0.0.1:8000/messaging/threads"
        ),
    )
    token.add_argument("login", help="the user's login, e.g. anna_kowalska")
    token.add_argument(
        "--aws-port", type=int, help="the emulator's port (default: read from the state file of `serve`)"
    )
    token.add_argument("--id-token", action="store_true", help="print the ID token instead of the access token")
    token.set_defaults(run=_token)

    directory = commands.add_parser(
        "directory", help="manage the marketplace directory", description="Manage the marketplace directory."
    )
    directory_commands = directory.add_subparsers(title="commands", metavar="COMMAND", required=True)
    load = directory_commands.add_parser(
        "load",
        help="load users, offers and orders from a JSON file",
        description=(
            'Load a directory document ({"users": [...], "offers": [...], "orders": [...]}): create each '
            "user in the Cognito user pool (username = login) and upsert users, offers and orders into the "
            "table. "
            "Loading the same file twice changes nothing. With --local, target the running local stack; "
            "otherwise the AWS account of your normal AWS environment/credentials, with the table and user "
            "pool given here or in TABLE_NAME / USER_POOL_ID. On AWS each new user gets Cognito's invitation "
            "e-mail (login, temporary password, the web client's address) and chooses a password at the "
            "first sign-in; locally every user gets the local password instead. An invalid document loads "
            "nothing and exits with status 2."
        ),
    )
    load.add_argument("file", type=Path, metavar="FILE", help="the directory JSON document")
    load.add_argument("--table", metavar="NAME", help="DynamoDB table name (default: $TABLE_NAME)")
    load.add_argument("--user-pool-id", metavar="ID", help="Cognito user pool id (default: $USER_POOL_ID)")
    load.add_argument(
        "--local",
        action="store_true",
        help="load into the running local stack (and set the local dev password)",
    )
    load.add_argument(
        "--invite",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="have Cognito e-mail each new user an invitation with a temporary password "
        "(default: on for AWS, off with --local)",
    )
    load.add_argument(
        "--resend-invitations",
        action="store_true",
        help="also invite again, with a new temporary password, the users who have never signed in "
        "(e.g. their temporary password expired, or they were loaded with --no-invite)",
    )
    load.set_defaults(run=_directory_load)

    from local_runtime import smoke

    smoke.add_parser(commands)

    from local_runtime.cost_command import add_cost_command

    add_cost_command(commands)
    return parser


# --- serve --------------------------------------------------------------------------------------


def _serve(arguments: argparse.Namespace) -> int:
    from local_runtime.directory import read_directory, summarize_users
    from local_runtime.runtime import LocalRuntime
    from local_runtime.state import default_state_path

    _limit_malloc_arenas()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not arguments.quiet:
        logging.getLogger("local_runtime.gateway").setLevel(logging.INFO)
        logging.getLogger("local_runtime.stream_poller").setLevel(logging.INFO)
        logging.getLogger("local_runtime.smtp_server").setLevel(logging.INFO)
    if not arguments.directory.is_file():
        print(f"error: no directory file at {arguments.directory}", file=sys.stderr)
        return EXIT_INVALID
    state_file = default_state_path()
    runtime = LocalRuntime(
        port=arguments.port,
        aws_port=arguments.aws_port,
        directory=arguments.directory,
        handler=arguments.handler,
        stream_handler=None if arguments.stream_handler.lower() == "none" else arguments.stream_handler,
        state_file=state_file,
        outbox_dir=arguments.outbox,
        smtp_port=arguments.smtp_port,
    )
    try:
        running = runtime.start()
    except OSError as error:
        print(f"error: cannot start the local stack: {error} (is another one running?)", file=sys.stderr)
        return EXIT_ERROR
    except ImportError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR

    users = summarize_users(read_directory(arguments.directory))
    stream = (
        f"{arguments.stream_handler} (INSERT of MBOX# items, batches of 25)"
        if runtime.stream_poller is not None
        else f"off: {runtime.stream_poller_off_reason}"
    )
    inbound = (
        "functions.inbound_mail"
        if runtime.inbound_mail_off_reason is None
        else f"stored only ({runtime.inbound_mail_off_reason})"
    )
    print(_banner(running, users, state_file, stream, inbound), flush=True)
    stopped = threading.Event()
    # Set both explicitly: a shell starts background jobs with SIGINT ignored.
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stopped.set())
    while not stopped.wait(timeout=0.2):
        pass
    print("\nStopping the local stack...", file=sys.stderr)
    runtime.stop()
    return 0


def _limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas (``mallopt(M_ARENA_MAX)``; ``MALLOC_ARENA_MAX`` wins when set).

    The emulator serves every AWS call on a new thread (werkzeug closes each connection), and glibc
    gives threads up to eight arenas per CPU, each keeping its freed memory: measured with
    ``make soak``, that was a quarter of the process's RSS. No effect on other C libraries.
    """
    if os.environ.get("MALLOC_ARENA_MAX") or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt(_M_ARENA_MAX, arenas)
    except (OSError, AttributeError):  # not glibc (musl has no arenas to cap)
        pass


def _banner(running: Any, users: list[Any], state_file: Path, stream: str = "", inbound: str = "") -> str:
    from local_runtime.directory import DEV_PASSWORD

    command = _command_name()
    example_login = users[0].login if users else "LOGIN"
    lines = [
        "Message Center local runtime",
        "",
        f"  Web client  {running.api_url}/   (sign in with a demo login below and its password)",
        f"  API         {running.api_url}",
        f"  Swagger UI  {running.api_url}/swagger",
        f"  AWS (moto)  {running.aws_endpoint_url}  region {running.region}, table {running.table_name}",
        f"              user pool {running.user_pool_id}, app client {running.user_pool_client_id}",
        f"              attachments bucket {running.attachments_bucket}",
        f"  Stream      {stream}",
        f"  Outbox      {running.outbox_url}   (e-mails sent; each one's raw .eml linked)",
        f"  Push log    {running.push_url}",
        f"  Stream DLQ  {running.dead_letters_url}",
        f"  SMTP        {running.smtp_address or '(off)'}   mail for *@{running.relay_domain} → "
        f"s3://{running.inbound_mail_bucket}/inbound/ → {inbound or 'inbound mail handler'}",
        f"  .eml folder {running.outbox_dir or '(none)'}",
        f"  State file  {state_file}",
        "",
    ]
    if users:
        rows = [("login", "role", "marketplace", "language")]
        rows += [(user.login, ", ".join(user.roles), user.marketplace, user.language) for user in users]
        widths = [max(len(row[column]) for row in rows) + 2 for column in range(3)]
        lines.append(f"Demo users (local password for all: {DEV_PASSWORD})")
        lines.extend(
            f"  {login:<{widths[0]}}{role:<{widths[1]}}{marketplace:<{widths[2]}}{language}"
            for login, role, marketplace, language in rows
        )
        lines.append("")
    lines += [
        f"Get a token:  {command} token {example_login}",
        "Try it:",
        f"  TOKEN=$({command} token {example_login}); "
        f'curl -H "Authorization: Bearer $TOKEN" {running.api_url}/messaging/threads',
        "",
    ]
    if {DEMO_BUYER, DEMO_SELLER} <= {user.login for user in users}:
        lines += _walkthrough(command, running.api_url)
    if running.smtp_address:
        lines += _mail_howto(running)
    lines.append("Press Ctrl-C to stop.")
    return "\n".join(lines)


DEMO_BUYER, DEMO_SELLER, DEMO_OFFER = "anna_kowalska", "dom-i-ogrod-pl", "12790441001"


def _walkthrough(command: str, api_url: str) -> list[str]:
    """Copy-paste steps: a buyer asks about an offer, the seller reads it and answers."""
    json_header = "-H 'Content-Type: application/vnd.allegro.public.v1+json'"
    return [
        "A buyer asks a question, the seller answers (paste into another terminal):",
        f"  BUYER=$({command} token {DEMO_BUYER}); SELLER=$({command} token {DEMO_SELLER})",
        f'  curl -X POST {api_url}/messaging/messages -H "Authorization: Bearer $BUYER" {json_header} '
        f'-d \'{{"offer": {{"id": "{DEMO_OFFER}"}}, "text": "Is the set available right away?"}}\'',
        f"  curl '{api_url}/messaging/threads?unread=true' -H \"Authorization: Bearer $SELLER\"",
        f"  curl {api_url}/_local/outbox; curl {api_url}/_local/push   # the seller's e-mail copy and push",
        f'  curl -X POST {api_url}/messaging/messages -H "Authorization: Bearer $SELLER" {json_header} '
        f'-d \'{{"recipient": {{"login": "{DEMO_BUYER}"}}, "text": "Yes, within 24 hours."}}\'',
        f'  curl {api_url}/messaging/threads -H "Authorization: Bearer $BUYER"   '
        "# then GET /messaging/threads/THREAD_ID/messages",
        "",
    ]


def _mail_howto(running: Any) -> list[str]:
    """How to send mail to the local SMTP server (a reply to an e-mail of the outbox)."""
    host, port = running.host, running.smtp_port
    return [
        "Reply by e-mail: send to the Reply-To address of an e-mail in the outbox, from the e-mail address",
        "of its recipient's account (any SMTP client; SES's verdicts are PASS unless X-Local-Verdicts says):",
        f"  swaks --server {host}:{port} --from USER_EMAIL --to REPLY_TO_ADDRESS --body 'Thanks!' "
        "[--attach @file.pdf] [--add-header 'X-Local-Verdicts: spf=FAIL, dkim=FAIL']",
        f"  python3 -c \"import smtplib; smtplib.SMTP('{host}', {port}).sendmail('USER_EMAIL', "
        "['REPLY_TO_ADDRESS'], b'Subject: Re: ...\\r\\n\\r\\nThanks!')\"",
        f"  (mail to other domains is refused; raw mail: s3://{running.inbound_mail_bucket}/inbound/)",
        "",
    ]


def _command_name() -> str:
    """How the user can call this CLI again from another terminal."""
    invoked = Path(sys.argv[0])
    on_path = shutil.which("message-center")
    if invoked.name == "message-center":
        return "message-center" if on_path == str(invoked.resolve()) else str(invoked.resolve())
    return "message-center" if on_path else f"{Path(sys.executable)} -m local_runtime.cli"


# --- token --------------------------------------------------------------------------------------


def _token(arguments: argparse.Namespace) -> int:
    from botocore.exceptions import ClientError

    from local_runtime import emulator
    from local_runtime.directory import DEV_PASSWORD
    from local_runtime.state import RuntimeNotRunningError

    try:
        endpoint_url, region, resources = _local_target(arguments.aws_port)
    except RuntimeNotRunningError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_ERROR
    try:
        tokens = emulator.issue_tokens(endpoint_url, region, resources, arguments.login, DEV_PASSWORD)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code in ("UserNotFoundException", "NotAuthorizedException"):
            print(
                f"error: {arguments.login!r} cannot sign in to the local user pool (unknown login, or loaded "
                "without the local password: use `message-center directory load --local FILE`)",
                file=sys.stderr,
            )
            return EXIT_ERROR
        raise
    print(tokens["IdToken" if arguments.id_token else "AccessToken"])
    return 0


def _local_target(aws_port: int | None) -> tuple[str, str, Any]:
    """Endpoint, region and resources of the running local stack (state file, or a given port)."""
    import os

    from local_runtime import emulator
    from local_runtime.state import RuntimeNotRunningError, default_state_path, is_listening, read_state

    if aws_port is None:
        running = read_state(default_state_path())
        return running.aws_endpoint_url, running.region, emulator.resources_of(running)
    if not is_listening("127.0.0.1", aws_port):
        raise RuntimeNotRunningError(
            f"The local runtime is not running (nothing listens on 127.0.0.1:{aws_port}). "
            "Start it with: message-center serve"
        )
    endpoint_url = f"http://127.0.0.1:{aws_port}"
    region = os.environ.get("AWS_REGION") or emulator.DEFAULT_REGION
    try:
        return endpoint_url, region, emulator.find_resources(endpoint_url, region)
    except LookupError as error:
        raise RuntimeNotRunningError(f"{error}: is `message-center serve` running on that port?") from None


# --- directory load -----------------------------------------------------------------------------


def _directory_load(arguments: argparse.Namespace) -> int:
    import os

    from message_center.deployment import Env
    from message_center.services.directory import DirectoryDocumentError
    from message_center.settings import DirectorySettings

    from local_runtime import emulator
    from local_runtime.directory import load_directory, read_directory, set_dev_passwords
    from local_runtime.state import RuntimeNotRunningError

    try:
        document = read_directory(arguments.file)
    except FileNotFoundError:
        print(f"error: no such file: {arguments.file}", file=sys.stderr)
        return EXIT_INVALID
    except json.JSONDecodeError as error:
        print(f"error: {arguments.file} is not valid JSON: {error}", file=sys.stderr)
        return EXIT_INVALID

    local: tuple[str, str, Any] | None = None
    if arguments.local:
        try:
            local = _local_target(None)
        except RuntimeNotRunningError as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_ERROR
        endpoint_url, region, resources = local
        settings = emulator.function_settings(endpoint_url, region, resources, api_url="").directory
    else:
        table = arguments.table or os.environ.get(Env.TABLE_NAME)
        user_pool_id = arguments.user_pool_id or os.environ.get(Env.USER_POOL_ID)
        stack_region = os.environ.get(Env.REGION) or os.environ.get(Env.DEFAULT_REGION)
        if not table or not user_pool_id:
            print(
                "error: give --table and --user-pool-id (or set TABLE_NAME and USER_POOL_ID), or use --local",
                file=sys.stderr,
            )
            return EXIT_INVALID
        if not stack_region:
            print("error: set AWS_REGION (or AWS_DEFAULT_REGION) to the stack's region", file=sys.stderr)
            return EXIT_INVALID
        settings = DirectorySettings(table_name=table, user_pool_id=user_pool_id, region=stack_region)

    invitations = directory_invitations(arguments)
    if invitations is None:
        print("error: --resend-invitations cannot be combined with --no-invite", file=sys.stderr)
        return EXIT_INVALID
    try:
        report = load_directory(document, settings, invitations)
    except DirectoryDocumentError as error:
        print(f"error: {arguments.file} is not a valid directory document; nothing was loaded:", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        return EXIT_INVALID
    if local is not None:
        endpoint_url, region, resources = local
        set_dev_passwords(endpoint_url, region, resources, [str(user["login"]) for user in document["users"]])
    target = "the local stack" if local else f"table {settings.table_name}"
    print(
        f"Loaded into {target} (user pool {settings.user_pool_id}): "
        f"users {report.users}, offers {report.offers}, orders {report.orders}."
    )
    print(_INVITATION_SUMMARY[invitations.value])
    return 0


_INVITATION_SUMMARY = {
    "suppress": "Invitations: none sent.",
    "new-users": "Invitations: Cognito e-mailed each new user a temporary password.",
    "resend": "Invitations: Cognito e-mailed each new user, and each user who never signed in, a temporary password.",
}


def directory_invitations(arguments: argparse.Namespace) -> Invitations | None:
    """What ``directory load`` asks Cognito to send: invitations by default on AWS, none with
    ``--local`` (local users get the development password); None for contradicting options."""
    from message_center.adapters.cognito import Invitations

    invite = not arguments.local if arguments.invite is None else arguments.invite
    if arguments.resend_invitations:
        return Invitations.RESEND if arguments.invite is not False else None
    return Invitations.NEW_USERS if invite else Invitations.SUPPRESS


if __name__ == "__main__":
    sys.exit(main())
