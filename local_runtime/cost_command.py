"""``message-center cost``: the monthly AWS bill for N users, from usage measured on the emulator.

The operations run in this process on moto (``benchmarks/cost_inputs.py``, which needs the
repository checkout: it drives the real handlers with the events of ``events/``), or come from a
JSON file that ``python -m benchmarks.cost_inputs`` wrote (``--measured FILE``).
"""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from dataclasses import fields
from pathlib import Path
from typing import Any

from local_runtime.aws_prices import REGIONS, TALKJS_BASIC, prices_for
from local_runtime.cost_model import Assumptions, Measurements, bill, render


def add_cost_command(commands: Any) -> None:
    """Add ``cost`` to the CLI's subcommands."""
    cost = commands.add_parser(
        "cost",
        help="the monthly AWS bill for N users, from requests measured on the emulator",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    cost.add_argument("--users", type=int, required=True, help="monthly active users")
    cost.add_argument("--messages-per-user", type=float, required=True, help="messages each user sends a month")
    cost.add_argument("--region", choices=REGIONS, default="eu-central-1", help="price table (default %(default)s)")
    cost.add_argument("--measured", type=Path, help="read the measurements from this JSON instead of measuring")
    for item in fields(Assumptions):
        meaning = item.metadata.get("help")
        if meaning:
            flag = f"--{item.name.replace('_', '-')}"
            cost.add_argument(flag, type=float, default=item.default, help=f"{meaning} (default %(default)s)")
    cost.set_defaults(run=run_cost)


def run_cost(arguments: argparse.Namespace) -> int:
    from message_center.deployment import API_FUNCTION, INBOUND_MAIL_FUNCTION, STREAM_FUNCTION

    if arguments.users <= 0 or arguments.messages_per_user < 0:
        print("error: --users must be positive and --messages-per-user not negative", file=sys.stderr)
        return 2
    if arguments.measured is not None:
        measured = Measurements.from_dict(json.loads(arguments.measured.read_text()))
    else:
        # The benchmarks live beside the package, in the checkout (not in an installed wheel).
        cost_inputs = importlib.import_module("benchmarks.cost_inputs")
        measured = Measurements.from_dict(cost_inputs.measure().as_dict())
    values = {item.name: getattr(arguments, item.name) for item in fields(Assumptions)}
    assumptions = Assumptions(**values)
    memory = {spec.package: spec.memory_mb for spec in (API_FUNCTION, STREAM_FUNCTION, INBOUND_MAIL_FUNCTION)}
    result = bill(
        measured, assumptions, prices_for(arguments.region), memory, region=arguments.region, anchor=TALKJS_BASIC
    )
    print(render(result, measured))
    return 0
