"""The Message Center's local runtime (not deployed).

One process runs an embedded AWS emulator (moto server) with the table, the Cognito user pool, the
attachments bucket and the notification resources, loads a demo directory, serves the HTTP API by
turning requests into API Gateway HTTP API events for the real handler after a JWT-authorizer check,
feeds the table's stream to the stream handler like an event source mapping (``stream_poller``), and
shows what was sent by e-mail and push under ``/_local/`` (``outbox``), and receives mail for the
relay domain over SMTP like SES, for the inbound mail handler (``smtp_server``). ``LocalRuntime`` starts it
from Python; ``message-center`` (``local_runtime.cli``) from a shell.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local_runtime.runtime import LocalRuntime

__all__ = ["LocalRuntime"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `message-center` can put layers/ on sys.path before message_center is imported.
    if name == "LocalRuntime":
        from local_runtime.runtime import LocalRuntime

        return LocalRuntime
    raise AttributeError(name)
