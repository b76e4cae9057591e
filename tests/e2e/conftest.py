"""The local runtime as a user starts it: `message-center serve` in its own process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 60


@dataclass
class LocalStack:
    api_url: str
    state: dict
    environment: dict[str, str]

    def cli(self, *arguments: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run ``message-center ARGS`` against this stack, as a user would in a second terminal."""
        return subprocess.run(
            [sys.executable, "-m", "local_runtime.cli", *arguments],
            cwd=ROOT,
            env=self.environment,
            capture_output=True,
            text=True,
            timeout=60,
            check=check,
        )

    def token(self, login: str) -> str:
        return self.cli("token", login).stdout.strip()

    def session(self, login: str) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {self.token(login)}"
        session.headers["Accept"] = "application/vnd.allegro.public.v1+json"
        return session


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    state_file = tmp_path_factory.mktemp("runtime") / "local.json"
    environment = {
        key: value for key, value in os.environ.items() if not key.startswith(("AWS_", "TABLE_NAME", "USER_POOL"))
    }
    environment["MESSAGE_CENTER_STATE_FILE"] = str(state_file)
    environment["PYTHONUNBUFFERED"] = "1"
    log = (tmp_path_factory.getbasetemp() / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "local_runtime.cli", "serve", "--port", "0", "--aws-port", "0", "--smtp-port", "0"],
        cwd=ROOT,
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        state = _wait_for_state(process, state_file)
        stack = LocalStack(api_url=f"http://{state['host']}:{state['api_port']}", state=state, environment=environment)
        yield stack
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _wait_for_state(process: subprocess.Popen[bytes], state_file: Path) -> dict:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"message-center serve exited with {process.returncode}")
        if state_file.exists():
            state = json.loads(state_file.read_text())
            try:
                if requests.get(f"http://{state['host']}:{state['api_port']}/openapi.json", timeout=2).ok:
                    return state
            except requests.ConnectionError:
                pass
        time.sleep(0.2)
    raise RuntimeError("message-center serve did not become ready in time")
