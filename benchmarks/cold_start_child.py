"""One Lambda container, for ``benchmarks.cold_start``: run as a script by the runtime's interpreter
with only the function's code and the layer on ``sys.path`` (``-S``: no site-packages of this machine;
``-B``: no bytecode written, as on Lambda's read-only /opt and /var/task).

    python3.12 -S -B cold_start_child.py <task dir> <layer site dir(s), os.pathsep-separated> <job.json>

The job names a module to import and, optionally, functions of it to call without arguments, or a
handler to invoke with events in order. Prints
one JSON line: the import's wall and CPU seconds, each invocation's CPU seconds and status, and the
AWS clients each invocation created. Imports nothing of the project but the module under test.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time

TRACE_HEADER = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"


class LambdaContext:
    function_name = "message-center-benchmark"
    memory_limit_in_mb = 1024
    invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:message-center-benchmark"
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def _record_clients(created: list[str]) -> None:
    """Note every botocore client created (boto3's and pynamodb's both go through this)."""
    from botocore.session import Session

    original = Session.create_client

    def create_client(self, service_name, *args, **kwargs):  # type: ignore[no-untyped-def]
        created.append(service_name)
        return original(self, service_name, *args, **kwargs)

    Session.create_client = create_client  # type: ignore[method-assign]


def main() -> None:
    task, layers, job_file = sys.argv[1:4]
    # Lambda's order: the function's code, then the layer.
    sys.path[:1] = [task, *layers.split(os.pathsep)]
    with open(job_file, encoding="utf-8") as file:
        job = json.load(file)
    wall, cpu = time.perf_counter(), time.process_time()
    module = importlib.import_module(job["module"])
    result: dict[str, object] = {
        "import_seconds": time.perf_counter() - wall,
        "import_cpu_seconds": time.process_time() - cpu,
        "invocations": [],
    }
    for name in job.get("calls", ()):
        cpu = time.process_time()
        getattr(module, name)()
        result[f"{name}_cpu_seconds"] = time.process_time() - cpu
    if job.get("handler"):
        handler = getattr(module, job["handler"])
        created: list[str] = []
        _record_clients(created)
        for event in job["events"]:
            os.environ["_X_AMZN_TRACE_ID"] = TRACE_HEADER
            created.clear()
            cpu = time.process_time()
            response = handler(event, LambdaContext())
            spent = time.process_time() - cpu
            status = response.get("statusCode") if isinstance(response, dict) else None
            result["invocations"].append({"cpu_seconds": spent, "status": status, "clients": sorted(created)})  # type: ignore[attr-defined]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
