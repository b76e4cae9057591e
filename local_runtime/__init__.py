"""The Message Center's local runtime (not deployed).

One process runs an embedded AWS emulator (moto server) with the table and the Cognito user pool,
loads a demo directory, and serves the HTTP API by turning requests into API Gateway HTTP API events
for the real handler after a JWT-authorizer check. ``LocalRuntime`` starts it from Python;
``message-center`` (``local_runtime.cli``) from a shell.
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
