"""The whole local stack in one process: AWS emulator, resources, demo directory, HTTP gateway.

From Python (end-to-end tests)::

    runtime = LocalRuntime()            # port=0, aws_port=0: free ports
    state = runtime.start()             # RuntimeState: api_url, aws_endpoint_url, pool/client ids
    token = runtime.token("anna_kowalska")
    ...
    runtime.stop()

``start`` points this process's AWS environment (``AWS_ENDPOINT_URL``, dummy credentials, region,
``TABLE_NAME``, ``USER_POOL_ID``, ``ATTACHMENTS_BUCKET``...) at the emulator before importing the
handler, the way the stack configures the deployed function; ``stop`` restores it. Each ``start``
imports the handler afresh (a cold start), so runtimes may follow one another in a process, but not
overlap: the environment and the handler's module state are process-wide.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from pathlib import Path
from typing import Any

from message_center.settings import get_settings

from local_runtime import emulator, state
from local_runtime.authorizer import JwksKeys, JwtAuthorizer, fetch_json
from local_runtime.directory import DEMO_DIRECTORY, DEV_PASSWORD, seed_directory
from local_runtime.gateway import LambdaHandler, LocalGateway
from local_runtime.state import RuntimeState

_logger = logging.getLogger(__name__)

DEFAULT_HANDLER = "functions.api.handler:lambda_handler"
# Stable defaults for Powertools when the stack's values are absent (tracing needs X-Ray).
_POWERTOOLS_DEFAULTS = {
    "POWERTOOLS_SERVICE_NAME": "message-center",
    "POWERTOOLS_METRICS_NAMESPACE": "MessageCenter",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def load_handler(spec: str) -> LambdaHandler:
    """Import ``"package.module:function"`` afresh, like a Lambda cold start.

    The handler's package (``functions.api`` for ``functions.api.handler``) is re-imported and the
    shared settings cache cleared, so cold-start state (settings, clients, table bindings) built
    for an earlier runtime in this process is not reused against this runtime's emulator.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"handler must look like 'package.module:function', got {spec!r}")
    package = module_name.rpartition(".")[0] or module_name
    for name in [name for name in sys.modules if name == package or name.startswith(f"{package}.")]:
        del sys.modules[name]
    get_settings.cache_clear()
    handler: LambdaHandler = getattr(importlib.import_module(module_name), attribute)
    return handler


class LocalRuntime:
    """Starts and stops the local Message Center stack (see the module docstring)."""

    def __init__(
        self,
        *,
        port: int = 0,
        aws_port: int = 0,
        host: str = "127.0.0.1",
        region: str = emulator.DEFAULT_REGION,
        table_name: str = emulator.DEFAULT_TABLE_NAME,
        attachments_bucket: str = emulator.DEFAULT_ATTACHMENTS_BUCKET,
        directory: Path | None = DEMO_DIRECTORY,
        handler: LambdaHandler | str = DEFAULT_HANDLER,
        state_file: Path | None = None,
    ) -> None:
        self._port = port
        self._host = host
        self._region = region
        self._table_name = table_name
        self._attachments_bucket = attachments_bucket
        self._directory = directory
        self._handler = handler
        self._state_file = state_file
        self._emulator = emulator.AwsEmulator(host, aws_port)
        self._gateway: LocalGateway | None = None
        self._state: RuntimeState | None = None
        self._saved_environment: dict[str, str | None] = {}
        self.seeded_logins: list[str] = []

    @property
    def state(self) -> RuntimeState:
        if self._state is None:
            raise RuntimeError("the local runtime is not running")
        return self._state

    def start(self) -> RuntimeState:
        """Start everything; return the bound ports and resource ids."""
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> RuntimeState:
        aws_port = self._emulator.start()
        endpoint_url = self._emulator.endpoint_url
        resources = emulator.provision(endpoint_url, self._region, self._table_name, self._attachments_bucket)
        self._apply_environment(
            {
                **emulator.handler_environment(endpoint_url, self._region, resources),
                **{name: os.environ.get(name) or value for name, value in _POWERTOOLS_DEFAULTS.items()},
            }
        )
        if self._directory is not None:
            self.seeded_logins = seed_directory(self._directory, endpoint_url, self._region, resources)
        handler = load_handler(self._handler) if isinstance(self._handler, str) else self._handler
        authorizer = JwtAuthorizer(
            issuer=emulator.issuer(self._region, resources.user_pool_id),
            audiences=[resources.user_pool_client_id],
            keys=JwksKeys(fetch_json(emulator.jwks_url(endpoint_url, resources.user_pool_id))),
        )
        self._gateway = LocalGateway(
            handler, authorizer, host=self._host, port=self._port, region=self._region
        )
        api_port = self._gateway.start()
        # Seam for the other triggers, started here once the resources exist and stopped in reverse
        # order in stop(): a DynamoDB stream poller feeding batches to functions/stream like an event
        # source mapping, and an SMTP server handing received mail to functions/inbound_mail like SES.
        self._state = RuntimeState(
            api_port=api_port,
            aws_port=aws_port,
            region=self._region,
            table_name=resources.table_name,
            user_pool_id=resources.user_pool_id,
            user_pool_client_id=resources.user_pool_client_id,
            attachments_bucket=resources.attachments_bucket,
            host=self._host,
            pid=os.getpid(),
        )
        if self._state_file is not None:
            state.write_state(self._state, self._state_file)
        return self._state

    def stop(self) -> None:
        """Stop everything started so far and restore the process environment (idempotent)."""
        if self._state_file is not None:
            state.remove_state(self._state_file, os.getpid())
        if self._gateway is not None:
            self._gateway.stop()
            self._gateway = None
        self._emulator.stop()
        self._restore_environment()
        self._state = None

    def token(self, login: str, *, kind: str = "access") -> str:
        """A fresh ``access`` (default) or ``id`` token for a seeded user."""
        tokens = emulator.issue_tokens(
            self.state.aws_endpoint_url, self._region, _resources(self.state), login, DEV_PASSWORD
        )
        return tokens["AccessToken" if kind == "access" else "IdToken"]

    def __enter__(self) -> LocalRuntime:
        self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    def _apply_environment(self, values: dict[str, str]) -> None:
        # A named profile would override nothing (env credentials win) but can fail to resolve.
        for name in [*values, "AWS_PROFILE"]:
            self._saved_environment.setdefault(name, os.environ.get(name))
        os.environ.pop("AWS_PROFILE", None)
        os.environ.update(values)

    def _restore_environment(self) -> None:
        for name, value in self._saved_environment.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        self._saved_environment.clear()


def _resources(running: RuntimeState) -> emulator.Resources:
    return emulator.Resources(
        running.table_name, running.user_pool_id, running.user_pool_client_id, running.attachments_bucket
    )
