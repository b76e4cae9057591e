"""Where a running ``message-center serve`` tells other commands how to reach it.

The state file holds ports and resource ids only, never tokens or passwords. Its location is
``$MESSAGE_CENTER_STATE_FILE`` when set, else ``$XDG_RUNTIME_DIR/message-center/local.json``
(a per-login tmpfs on most Linux desktops), else ``~/.cache/message-center/local.json``.
Only the CLI's ``serve`` writes it; a runtime started from Python (tests) does not unless asked,
so parallel test runs never overwrite a developer's running instance.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import asdict, dataclass
from pathlib import Path

STATE_FILE_ENV = "MESSAGE_CENTER_STATE_FILE"


@dataclass(frozen=True)
class RuntimeState:
    """How to reach one running local runtime (what ``LocalRuntime.start`` returns)."""

    api_port: int
    aws_port: int
    region: str
    table_name: str
    user_pool_id: str
    user_pool_client_id: str
    attachments_bucket: str
    idempotency_table_name: str
    relay_domain: str
    mail_token_secret_arn: str
    push_apns_application_arn: str
    push_fcm_application_arn: str
    host: str = "127.0.0.1"
    pid: int = 0
    # Where each e-mail sent is also written as an .eml file ("" when not written).
    outbox_dir: str = ""
    # Raw inbound mail (emulator.DEFAULT_INBOUND_MAIL_BUCKET), stored by the local SMTP server.
    inbound_mail_bucket: str = "message-center-inbound-mail-local"
    # The local SMTP server accepting mail for the relay domain (0: not running).
    smtp_port: int = 0
    # The local WebSocket API (0: not running) and its management API's endpoint ("": none).
    websocket_port: int = 0
    websocket_management_url: str = ""

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"

    @property
    def outbox_url(self) -> str:
        """The e-mails sent (SES), newest last, each with a link to its raw .eml."""
        return f"{self.api_url}/_local/outbox"

    @property
    def push_url(self) -> str:
        """The push payloads published to SNS platform endpoints."""
        return f"{self.api_url}/_local/push"

    @property
    def dead_letters_url(self) -> str:
        """Stream batches the stream handler failed until retries ran out."""
        return f"{self.api_url}/_local/dead-letters"

    @property
    def smtp_address(self) -> str:
        """``host:port`` of the local SMTP server ("" when it is not running)."""
        return f"{self.host}:{self.smtp_port}" if self.smtp_port else ""

    @property
    def websocket_url(self) -> str:
        """Where browsers open the live channel ("" when it is not running)."""
        return f"ws://{self.host}:{self.websocket_port}" if self.websocket_port else ""

    @property
    def aws_endpoint_url(self) -> str:
        return f"http://{self.host}:{self.aws_port}"


class RuntimeNotRunningError(RuntimeError):
    """No local runtime answers where the state file (or the given port) says it should."""


def default_state_path() -> Path:
    """The state file location (see the module docstring for the order of precedence)."""
    if explicit := os.environ.get(STATE_FILE_ENV):
        return Path(explicit)
    if runtime_dir := os.environ.get("XDG_RUNTIME_DIR"):
        return Path(runtime_dir) / "message-center" / "local.json"
    return Path.home() / ".cache" / "message-center" / "local.json"


def write_state(state: RuntimeState, path: Path) -> None:
    """Write ``state`` atomically, readable only by the current user."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(asdict(state), indent=2) + "\n", encoding="utf-8")
    temporary.chmod(0o600)
    temporary.replace(path)


def remove_state(path: Path, pid: int) -> None:
    """Delete the state file if it still describes the process ``pid`` (a newer serve may own it)."""
    try:
        if json.loads(path.read_text(encoding="utf-8")).get("pid") == pid:
            path.unlink()
    except (FileNotFoundError, json.JSONDecodeError):
        pass


def read_state(path: Path) -> RuntimeState:
    """The state of the running runtime; ``RuntimeNotRunningError`` when there is none."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RuntimeNotRunningError(
            f"The local runtime is not running (no state file at {path}). Start it with: message-center serve"
        ) from None
    except json.JSONDecodeError:
        raise RuntimeNotRunningError(f"The state file {path} is not valid JSON; restart message-center serve") from None
    try:
        state = RuntimeState(**{name: raw[name] for name in RuntimeState.__dataclass_fields__ if name in raw})
    except TypeError:  # written by an older version, before a field was added
        raise RuntimeNotRunningError(f"The state file {path} is incomplete; restart message-center serve") from None
    if not is_listening(state.host, state.aws_port):
        raise RuntimeNotRunningError(
            f"The local runtime is not running (nothing listens on {state.aws_endpoint_url}; "
            f"stale state file {path}). Start it with: message-center serve"
        )
    return state


def is_listening(host: str, port: int, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
