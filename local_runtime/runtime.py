"""The whole local stack in one process: AWS emulator, resources, demo directory, HTTP gateway,
the stream poller feeding the stream handler, the SMTP server feeding the inbound mail handler,
and the outbox of what was sent.

From Python (end-to-end tests)::

    runtime = LocalRuntime()            # port=0, aws_port=0: free ports
    state = runtime.start()             # RuntimeState: api_url, aws_endpoint_url, resource ids
    token = runtime.token("anna_kowalska")
    ...
    runtime.outbox.sync(); runtime.outbox.emails()   # or GET state.outbox_url
    runtime.stop()

``start`` imports each handler afresh (a cold start) and installs its settings, naming the
emulator's resources, into the handler's container (``emulator.function_settings``), the way the
stack configures the deployed functions through their environment. Runtimes may follow one another
in a process, but not overlap: the handlers' module state is process-wide.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import sys
import threading
from pathlib import Path
from typing import Any

from message_center.deployment import REALTIME_EVENTS_FUNCTION, REALTIME_SOURCE

from local_runtime import emulator, state
from local_runtime.authorizer import JwksKeys, JwtAuthorizer, fetch_json
from local_runtime.directory import DEMO_DIRECTORY, DEV_PASSWORD, seed_directory
from local_runtime.gateway import HttpRequest, HttpResponse, LambdaHandler, LocalGateway
from local_runtime.outbox import LocalEndpoints, Outbox
from local_runtime.smtp_server import DEFAULT_INBOUND_MAIL_HANDLER, LocalSmtpServer
from local_runtime.state import RuntimeState
from local_runtime.stream_poller import DEFAULT_STREAM_HANDLER, StreamPoller
from local_runtime.web import COGNITO_PATH, WEB_DIST, CognitoProxy, WebClient, WebClientConfig

_logger = logging.getLogger(__name__)

DEFAULT_HANDLER = "functions.api.handler:lambda_handler"
# Real time (issue #12): the live events function, fed by its own poller with its own filter, and
# the WebSocket management API its handlers post to (until the runtime serves one itself, from
# this variable; otherwise an address nobody listens on, which no connection can reach anyway).
DEFAULT_LIVE_EVENTS_HANDLER = "functions.realtime_events.handler:lambda_handler"
WEBSOCKET_MANAGEMENT_URL_VARIABLE = "MESSAGE_CENTER_WEBSOCKET_MANAGEMENT_URL"
# Stable defaults for Powertools when the stack's values are absent (tracing needs X-Ray).
_POWERTOOLS_DEFAULTS = {
    "POWERTOOLS_SERVICE_NAME": "message-center",
    "POWERTOOLS_METRICS_NAMESPACE": "MessageCenter",
    "POWERTOOLS_TRACE_DISABLED": "true",
}


def load_handler(spec: str) -> LambdaHandler:
    """Import ``"package.module:function"`` afresh, like a Lambda cold start.

    The handler's package (``functions.api`` for ``functions.api.handler``) is re-imported, so
    cold-start state (settings, clients, table bindings) built for an earlier runtime in this
    process is not reused against this runtime's emulator.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"handler must look like 'package.module:function', got {spec!r}")
    package = module_name.rpartition(".")[0] or module_name
    for name in [name for name in sys.modules if name == package or name.startswith(f"{package}.")]:
        del sys.modules[name]
    handler: LambdaHandler = getattr(importlib.import_module(module_name), attribute)
    return handler


def handler_exists(spec: str) -> bool:
    """Whether the module of ``"package.module:function"`` can be found (without importing it)."""
    module_name = spec.partition(":")[0]
    try:
        return importlib.util.find_spec(module_name) is not None
    except ModuleNotFoundError:  # a parent package is missing
        return False


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
        stream_handler: LambdaHandler | str | None = DEFAULT_STREAM_HANDLER,
        state_file: Path | None = None,
        outbox_dir: Path | None = None,
        smtp_port: int | None = 0,
        inbound_mail_handler: LambdaHandler | str | None = DEFAULT_INBOUND_MAIL_HANDLER,
        web_dist: Path = WEB_DIST,
    ) -> None:
        """``stream_handler``: what the stream poller invokes (None: no poller; a module path that
        does not exist yet: no poller, with a warning). ``outbox_dir``: where each e-mail sent is
        written as an .eml file (default: ``outbox/`` next to ``state_file``; none without one).
        ``smtp_port``: the local SMTP server's port (0: any free port; None: no SMTP server).
        ``inbound_mail_handler``: what it invokes with each received mail (None, or a module path
        that does not exist yet: mail is stored in the inbound bucket only, with a warning).
        ``web_dist``: the built web client served at ``/`` (see ``local_runtime.web``)."""
        self._port = port
        self._host = host
        self._region = region
        self._table_name = table_name
        self._attachments_bucket = attachments_bucket
        self._directory = directory
        self._handler = handler
        self._stream_handler = stream_handler
        self._state_file = state_file
        if outbox_dir is None and state_file is not None:
            outbox_dir = state_file.parent / "outbox"
        self._outbox_dir = outbox_dir
        self._smtp_port = smtp_port
        self._inbound_mail_handler = inbound_mail_handler
        self._web_dist = web_dist
        self._smtp: LocalSmtpServer | None = None
        # Why received mail reaches no handler, when it does not (shown in the serve banner).
        self.inbound_mail_off_reason: str | None = None
        self._emulator = emulator.AwsEmulator(host, aws_port)
        self._gateway: LocalGateway | None = None
        self._poller: StreamPoller | None = None
        self._live_events_poller: StreamPoller | None = None
        self._outbox: Outbox | None = None
        # In Lambda each function runs in its own process; here they share one, and with it
        # process-wide module state (Powertools Metrics keeps one metric set for all its instances,
        # Logger one formatter per service): one invocation at a time, whichever the function.
        self._invoke_lock = threading.Lock()
        # Why there is no stream poller, when there is none (shown in the serve banner).
        self.stream_poller_off_reason: str | None = None
        self._state: RuntimeState | None = None
        self._settings: emulator.FunctionSettings | None = None
        self._saved_environment: dict[str, str | None] = {}
        self.seeded_logins: list[str] = []

    @property
    def outbox(self) -> Outbox:
        """The e-mails and pushes sent so far (``sync()`` first to see the newest)."""
        if self._outbox is None:
            raise RuntimeError("the local runtime is not running")
        return self._outbox

    @property
    def stream_poller(self) -> StreamPoller | None:
        return self._poller

    @property
    def smtp_server(self) -> LocalSmtpServer | None:
        return self._smtp

    def dead_letters(self) -> list[dict[str, Any]]:
        """Stream batches the stream handler failed until retries ran out."""
        return self._poller.dead_letters if self._poller is not None else []

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
        authorizer = JwtAuthorizer(
            issuer=emulator.issuer(self._region, resources.user_pool_id),
            audiences=[resources.user_pool_client_id],
            keys=JwksKeys(fetch_json(emulator.jwks_url(endpoint_url, resources.user_pool_id))),
        )
        self._outbox = Outbox(emulator.SentMessages(), self._outbox_dir)
        self._outbox.clear_folder()
        local_endpoints = LocalEndpoints(self._outbox, self.dead_letters).handle
        cognito_proxy = CognitoProxy(endpoint_url, self._region)

        def local_routes(request: HttpRequest) -> HttpResponse:
            if request.raw_path == COGNITO_PATH:
                return cognito_proxy.handle(request)
            return local_endpoints(request)

        web_config = WebClientConfig(resources.user_pool_id, resources.user_pool_client_id, self._region)
        self._gateway = LocalGateway(
            None,
            authorizer,
            host=self._host,
            port=self._port,
            region=self._region,
            local_routes=local_routes,
            invoke_lock=self._invoke_lock,
            static_site=WebClient(web_config, self._web_dist),
        )
        # Bound, not yet serving: the handlers' environment names the API's URL (links in e-mails).
        api_port = self._gateway.bind()
        api_url = f"http://{self._host}:{api_port}"
        self._apply_environment({name: os.environ.get(name) or value for name, value in _POWERTOOLS_DEFAULTS.items()})
        self._settings = emulator.function_settings(
            endpoint_url,
            self._region,
            resources,
            api_url,
            websocket_management_url=os.environ.get(WEBSOCKET_MANAGEMENT_URL_VARIABLE)
            or emulator.UNSERVED_WEBSOCKET_MANAGEMENT_URL,
        )
        if self._directory is not None:
            self.seeded_logins = seed_directory(
                self._directory, endpoint_url, self._region, resources, self._settings.directory
            )
        self._gateway.handler = self._load(self._handler, self._settings.api)
        self._start_stream_poller(endpoint_url, resources.table_name)
        self._start_live_events_poller(endpoint_url, resources.table_name)
        self._gateway.start()
        smtp_port = self._start_smtp_server(endpoint_url, resources)
        self._state = RuntimeState(
            api_port=api_port,
            aws_port=aws_port,
            region=self._region,
            table_name=resources.table_name,
            user_pool_id=resources.user_pool_id,
            user_pool_client_id=resources.user_pool_client_id,
            attachments_bucket=resources.attachments_bucket,
            idempotency_table_name=resources.idempotency_table_name,
            relay_domain=resources.relay_domain,
            mail_token_secret_arn=resources.mail_token_secret_arn,
            push_apns_application_arn=resources.push_apns_application_arn,
            push_fcm_application_arn=resources.push_fcm_application_arn,
            host=self._host,
            pid=os.getpid(),
            outbox_dir=str(self._outbox_dir) if self._outbox_dir else "",
            inbound_mail_bucket=resources.inbound_mail_bucket,
            smtp_port=smtp_port,
        )
        if self._state_file is not None:
            state.write_state(self._state, self._state_file)
        return self._state

    def _start_stream_poller(self, endpoint_url: str, table_name: str) -> None:
        spec = self._stream_handler
        if spec is None:
            self.stream_poller_off_reason = "no stream handler configured"
            return
        if isinstance(spec, str) and not handler_exists(spec):
            self.stream_poller_off_reason = f"{spec.partition(':')[0]} does not exist yet"
            _logger.warning("no stream handler (%s): the stream poller is off, new messages notify nobody", spec)
            return
        outbox = self.outbox
        self._poller = StreamPoller(
            endpoint_url,
            self._region,
            table_name,
            self._load(spec, self.settings.stream),
            after_batch=outbox.sync,
            housekeeping=emulator.housekeeping,
            invoke_lock=self._invoke_lock,
        )
        self._poller.start()

    def _start_live_events_poller(self, endpoint_url: str, table_name: str) -> None:
        """A second mapping on the same stream, as deployed: the live events function with its filter."""
        if self._stream_handler is None:  # no stream consumers at all
            return
        self._live_events_poller = StreamPoller(
            endpoint_url,
            self._region,
            table_name,
            self._load(DEFAULT_LIVE_EVENTS_HANDLER, self.settings.realtime_events),
            filter_patterns=REALTIME_SOURCE.filter_patterns,
            function_name=REALTIME_EVENTS_FUNCTION.name,
            housekeeping=None,
            invoke_lock=self._invoke_lock,
        )
        self._live_events_poller.start()

    def _start_smtp_server(self, endpoint_url: str, resources: emulator.Resources) -> int:
        """Start the SMTP server standing in for SES receiving; return its port (0: none)."""
        if self._smtp_port is None:
            return 0
        spec = self._inbound_mail_handler
        handler: LambdaHandler | None = None
        if spec is None:
            self.inbound_mail_off_reason = "no inbound mail handler configured"
        elif isinstance(spec, str) and not handler_exists(spec):
            self.inbound_mail_off_reason = f"{spec.partition(':')[0]} does not exist yet"
            _logger.warning("no inbound mail handler (%s): received mail is only stored in S3", spec)
        else:
            handler = self._load(spec, self.settings.inbound_mail)
        self._smtp = LocalSmtpServer(
            endpoint_url,
            self._region,
            resources.inbound_mail_bucket,
            resources.relay_domain,
            handler,
            host=self._host,
            port=self._smtp_port,
            invoke_lock=self._invoke_lock,
            after_delivery=self.outbox.sync,
        )
        return self._smtp.start()

    @property
    def settings(self) -> emulator.FunctionSettings:
        """Each function's settings in this runtime (once started)."""
        if self._settings is None:
            raise RuntimeError("the local runtime is not running")
        return self._settings

    @staticmethod
    def _load(handler: LambdaHandler | str, settings: Any) -> LambdaHandler:
        """Import a handler afresh and install its settings (a handler given as a function is
        used as it is)."""
        if not isinstance(handler, str):
            return handler
        try:
            loaded = load_handler(handler)
        except ImportError as error:
            raise ImportError(f"cannot import the handler {handler}: {error}") from error
        module = sys.modules[handler.partition(":")[0]]
        container = getattr(module, "container", None)
        if container is not None:
            container.install(settings)
        # Routes only the local gateway serves (the API's Swagger UI), never set up on Lambda.
        enable_local_routes = getattr(module, "enable_local_routes", None)
        if enable_local_routes is not None:
            enable_local_routes()
        return loaded

    def stop(self) -> None:
        """Stop everything started so far and restore the process environment (idempotent)."""
        if self._state_file is not None:
            state.remove_state(self._state_file, os.getpid())
        if self._gateway is not None:
            self._gateway.stop()
            self._gateway = None
        if self._smtp is not None:
            self._smtp.stop()
            self._smtp = None
        if self._poller is not None:
            self._poller.stop()
            self._poller = None
        if self._live_events_poller is not None:
            self._live_events_poller.stop()
            self._live_events_poller = None
        self._emulator.stop()
        self._restore_environment()
        self._state = None
        self._settings = None

    def token(self, login: str, *, kind: str = "access") -> str:
        """A fresh ``access`` (default) or ``id`` token for a seeded user."""
        tokens = emulator.issue_tokens(
            self.state.aws_endpoint_url, self._region, emulator.resources_of(self.state), login, DEV_PASSWORD
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
