"""``message-center cost`` measures on the emulator (moto in this process) and prints the bill."""

from __future__ import annotations

import json

from benchmarks.cost_inputs import measure
from local_runtime.cli import main


def test_the_cost_command_measures_and_prints_the_bill_beside_the_anchor(capsys):
    # When the command runs for 10,000 users sending 20 messages each
    assert main(["cost", "--users", "10000", "--messages-per-user", "20", "--region", "us-east-1"]) == 0
    text = capsys.readouterr().out
    # Then it prints the bill as a table with a total, beside TalkJS Basic and the goal
    assert "Monthly bill, us-east-1: 10,000 users × 20 messages = 200,000 messages" in text
    assert "| service | what | quantity | unit | USD / month | from |" in text
    assert "| **total** |" in text
    assert "| TalkJS Basic (10,000 monthly active users" in text
    assert "goal: at most 10 %" in text
    # And every e-mail copy was counted from the stream function's own SES request
    assert "| SES | e-mail copies sent | 200,000 | e-mails | 20.00 | measured |" in text
    # And the assumptions are printed with it
    assert "`--messages-per-thread` 5" in text


def test_the_measurements_see_the_send_budget_and_the_notification():
    # When the operations run on the emulator
    measured = measure().as_dict()
    # Then a send in a thread is two BatchGetItems and one transaction, and it wrote and read units
    send = measured["write_in_thread"]
    assert send["requests"] == {"dynamodb:BatchGetItem": 2, "dynamodb:TransactWriteItems": 1}
    assert send["read_units"] > 0 and send["write_units"] > 0
    # And notifying it sent one e-mail and one push
    notify = measured["notify"]["requests"]
    assert (notify["ses:SendRawEmail"], notify["sns:Publish"]) == (1, 1)
    assert measured["stored_bytes_per_message"] > 0
    assert json.loads(json.dumps(measured)) == measured  # what --measured reads back


def test_the_bill_can_be_priced_from_a_file_the_benchmark_wrote(tmp_path, capsys):
    # Given measurements written to a file, as `python -m benchmarks.cost_inputs > FILE` does
    path = tmp_path / "measured.json"
    path.write_text(json.dumps(measure().as_dict()))
    # When the command prices them for Frankfurt
    assert main(["cost", "--users", "100", "--messages-per-user", "5", "--measured", str(path)]) == 0
    # Then the bill is Frankfurt's
    assert "Monthly bill, eu-central-1: 100 users × 5 messages = 500 messages" in capsys.readouterr().out
