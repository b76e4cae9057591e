"""The cost model's arithmetic: DynamoDB's units from item sizes, and the bill from known usage."""

from __future__ import annotations

import math

import pytest

from benchmarks.cost_inputs import item_size, read_units, units_of, value_size, write_units
from local_runtime.aws_prices import PRICES, REGIONS, TALKJS_BASIC, Anchor, Price, prices_for
from local_runtime.cost_model import Assumptions, Measurements, OperationUsage, bill, render

# -- DynamoDB's arithmetic -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "size"),
    [
        ({"S": "USER#anna"}, 9),
        ({"S": "łódź"}, 7),  # UTF-8 bytes, not characters
        ({"N": "12345"}, 4),  # ceil(5 digits / 2) + 1
        ({"N": "-7"}, 2),
        ({"BOOL": True}, 1),
        ({"NULL": True}, 1),
        ({"L": [{"S": "ab"}, {"N": "1"}]}, 3 + (2 + 1) + (2 + 1)),
        ({"M": {"id": {"S": "x"}}}, 3 + 2 + 1 + 1),
    ],
)
def test_attribute_values_are_sized_as_dynamodb_sizes_them(value, size):
    assert value_size(value) == size


def test_an_item_is_its_names_and_values():
    # Given an item of two string attributes
    item = {"pk": {"S": "MSG#1"}, "sk": {"S": "MSG"}}
    # Then its size is the names' and the values' bytes
    assert item_size(item) == 2 + 5 + 2 + 3


def test_read_units_round_each_item_or_a_querys_total_up_to_4_kb():
    # A strongly consistent read of a 5,000-byte item takes two units, an eventually consistent one one
    assert read_units([5000], consistent=True) == 2
    assert read_units([5000], consistent=False) == 1
    # Two 1,000-byte items read by key: one unit each; by a query: their total, one unit
    assert read_units([1000, 1000], consistent=True) == 2
    assert read_units([1000, 1000], consistent=True, together=True) == 1
    # A query that finds nothing still costs one read
    assert read_units([], consistent=False, together=True) == 0.5


def test_write_units_are_per_kb_and_doubled_in_a_transaction():
    assert write_units(1024, transactional=False) == 1
    assert write_units(1025, transactional=False) == 2
    assert write_units(10, transactional=True) == 2


def test_a_transaction_puts_items_and_their_index_copies():
    # Given a transaction that replaces an inbox entry (held by two indexes) and updates a counter
    entry = {"pk": {"S": "USER#a"}, "sk": {"S": "INBOX#t"}, "inboxOwner": {"S": "a"}, "unreadOwner": {"S": "a"}}
    params = {
        "TransactItems": [
            {"Put": {"Item": entry, "ConditionExpression": "#0 = :0"}},
            {"Update": {"Key": {}, "UpdateExpression": "ADD #0 :0"}},
        ]
    }
    # Then: the put 2 units (transactional), each index a delete and a put (2 × 2), the update 2
    assert units_of("TransactWriteItems", params, {}) == (0.0, 2 + 4 + 2)


def test_a_new_item_is_written_once_to_each_index():
    entry = {"pk": {"S": "USER#a"}, "sk": {"S": "INBOX#t"}, "inboxOwner": {"S": "a"}}
    params = {"TransactItems": [{"Put": {"Item": entry, "ConditionExpression": "attribute_not_exists (#0)"}}]}
    assert units_of("TransactWriteItems", params, {}) == (0.0, 2 + 1)


def test_a_batch_get_reads_by_its_tables_consistency():
    item = {"pk": {"S": "x" * 5000}}
    params = {"RequestItems": {"T": {"Keys": [], "ConsistentRead": True}}}
    assert units_of("BatchGetItem", params, {"Responses": {"T": [item, item]}}) == (4.0, 0.0)


# -- the bill --------------------------------------------------------------------------------


def _usage(read_units: float = 0, write_units: float = 0, seconds: float = 0, **requests: int) -> OperationUsage:
    return OperationUsage(
        requests={name.replace("__", ":"): n for name, n in requests.items()},
        read_units=read_units,
        write_units=write_units,
        log_bytes=0,
        seconds=seconds,
    )


MEASURED = Measurements(
    write_in_thread=_usage(read_units=4, write_units=20, seconds=0.1),
    new_conversation=_usage(read_units=6, write_units=30, seconds=0.2),
    read_calls={"badge": _usage(read_units=1, seconds=0.05)},
    notify=_usage(read_units=2, write_units=4, seconds=0.2, ses__SendRawEmail=1, sns__Publish=1),
    stored_bytes_per_message=700,
)
# Round prices, the same in "test-region" for every name the model uses.
PRICES_OF_ONE = {name: Price(1e-6, "unit", "https://example.test/") for name in PRICES}
MEMORY = {"api": 1024, "stream": 512, "inbound_mail": 1024}
ANCHOR = Anchor("Anchor", 100.0, 1000, "https://example.test/anchor")


def _bill(**overrides: float):
    quiet = {
        "messages_per_thread": 5,
        "reads_per_message": 0,
        "app_opens_per_user": 0,
        "attachment_share": 0,
        "inbound_mail_share": 0,
        "translation_share": 0,
        "online_minutes_per_day": 0,
        "xray_sampling": 0,
        "warm_containers": 0,
    }
    assumptions = Assumptions(**({"users": 1000, "messages_per_user": 10} | quiet | overrides))  # type: ignore[arg-type]
    return bill(MEASURED, assumptions, PRICES_OF_ONE, MEMORY, region="test-region", anchor=ANCHOR)


def _line(result, what: str):
    return next(line for line in result.lines if line.what.startswith(what))


def test_sends_mix_new_conversations_and_messages_in_threads():
    # Given 10,000 messages, one in five starting a conversation
    result = _bill()
    # Then the writes are 2,000 × 30 + 8,000 × 20 for the sends, plus 10,000 × 4 notifying
    assert _line(result, "write request units").quantity == pytest.approx(2000 * 30 + 8000 * 20 + 10000 * 4)
    assert _line(result, "write request units").usd == pytest.approx(0.26)
    # And the reads 2,000 × 6 + 8,000 × 4 + 10,000 × 2
    assert _line(result, "read request units").quantity == pytest.approx(2000 * 6 + 8000 * 4 + 10000 * 2)


def test_every_message_is_mailed_and_pushed_once():
    result = _bill()
    assert _line(result, "e-mail copies sent").quantity == 10_000
    assert _line(result, "mobile pushes").quantity == 10_000
    # At $1 per million each
    assert _line(result, "e-mail copies sent").usd == pytest.approx(0.01)


def test_lambda_is_priced_by_memory_times_measured_time():
    # Given sends of 0.2 s (new) and 0.1 s (in a thread) at 1 GB, notifications of 0.2 s at 0.5 GB
    result = _bill()
    gb_seconds = (2000 * 0.2 + 8000 * 0.1) * 1.0 + 10000 * 0.2 * 0.5
    assert _line(result, "duration").quantity == pytest.approx(gb_seconds)
    # And one invocation per send and per notified message
    assert _line(result, "requests").quantity == 20_000


def test_translation_is_priced_by_the_characters_of_the_translated_share():
    # Given half the messages translated, 100 characters each
    result = _bill(translation_share=0.5, message_chars=100)
    # Then 10,000 × 0.5 × 100 characters
    assert _line(result, "characters auto-translated").quantity == 500_000
    assert result.service_total("Translate") == pytest.approx(0.5)
    assert result.total_without_translation == pytest.approx(result.total - 0.5)


def test_openings_and_app_opens_call_the_api_once_per_read_call():
    # Given every message opened once (one measured call: the badge) and 3 app opens per user
    result = _bill(reads_per_message=1, app_opens_per_user=3)
    # Then the HTTP API gets the sends, 10,000 openings and 3,000 app opens
    assert _line(result, "HTTP API requests").quantity == 10_000 + 10_000 + 3_000


def test_the_bill_compares_with_the_anchor():
    result = _bill()
    assert result.share_of_anchor == pytest.approx(result.total / 100.0)
    text = render(result, MEASURED)
    assert "| **total** |" in text and "Anchor (1,000 monthly active users" in text
    assert "`--translation-share` 0:" in text


@pytest.mark.parametrize("region", REGIONS)
def test_every_price_is_dated_sourced_and_in_both_regions(region):
    prices = prices_for(region)
    assert set(prices) == set(PRICES)
    for name, price in prices.items():
        assert price.usd >= 0, name
        assert price.source.startswith("https://aws.amazon.com/"), name
        assert math.isfinite(price.usd)


def test_an_unknown_region_has_no_prices():
    with pytest.raises(KeyError):
        prices_for("ap-south-2")


def test_the_anchor_is_talkjs_basic():
    assert (TALKJS_BASIC.usd_per_month, TALKJS_BASIC.monthly_active_users) == (279.0, 10_000)


def test_what_the_stack_costs_at_rest_does_not_depend_on_traffic():
    # Given the same stack with 1,000 users and with none
    busy, idle = _bill(), _bill(messages_per_user=0, alarms=10, waf_rules=2)
    # Then the web ACL, its rules, the dashboard and the alarms are paid either way
    # (at $1 per million in this price table: 1 + 2 + 1 + 10 units)
    assert idle.at_rest == busy.at_rest == pytest.approx(14e-6)
    assert {line.service for line in idle.lines if line.fixed} == {"WAF", "CloudWatch"}
    assert "of which at rest" in render(idle, MEASURED)


def test_live_events_and_waf_grow_with_messages_and_api_calls():
    # Given 10,000 messages, each opened once (one measured read call)
    result = _bill(reads_per_message=1)
    # Then each message is an event to both sides and each opening two (read change, receipt)
    assert _line(result, "live events").quantity == (10_000 * 2 + 10_000 * 2) * 2
    # And WAF inspects every API call that comes through CloudFront
    assert _line(result, "requests inspected").quantity == _line(result, "HTTP API requests").quantity
