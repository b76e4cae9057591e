"""The soak benchmark's own logic (``python -m benchmarks.soak``): who may start which conversation,
the percentiles it prints, and that a run missing any goal is reported as missed (exit 1)."""

from __future__ import annotations

import pytest

from benchmarks.soak import Cast, Delivery, SoakResult, Tally, WatchResult, percentile, render


def _result(**changes: object) -> SoakResult:
    tally = Tally()
    for operation, seconds in (("badge", 0.010), ("badge", 0.030), ("new conversation", 0.050)):
        tally.record(operation, seconds)
    tally.record("GET /_local/outbox", 0.020)
    fields: dict[str, object] = {
        "seconds": 10.0,
        "clients": 4,
        "rate": 5.0,
        "tally": tally,
        "watch": WatchResult(cancelled_transactions=2),
        "delivery": Delivery(sends=1, emailed=1, pushed=1, seconds_to_drain=0.5),
        "dead_letters": 0,
        "rss_after_setup_mb": 220.0,
        "rss_peak_mb": 380.0,
        "rss_end_mb": 370.0,
    }
    return SoakResult(**{**fields, **changes})  # type: ignore[arg-type]


def test_the_demo_cast_only_starts_conversations_the_rules_allow():
    # Given the demo directory
    cast = Cast.from_directory()
    # Then buyers ask about other people's offers, and only business sellers write about their orders
    assert cast.questions and cast.order_messages
    assert all(buyer != seller for buyer, _, seller in cast.questions)
    assert ("anna_kowalska", "12790441001", "dom-i-ogrod-pl") in cast.questions
    assert ("dom-i-ogrod-pl", "anna_kowalska", "5d1b8a72-3c4e-4f0a-9b61-2f8e7c1a0d01") in cast.order_messages
    assert all(seller != "peter_horvath" for seller, _, _ in cast.order_messages)  # a private seller
    assert set(cast.emails) == set(cast.logins) and len(cast.logins) == 8


def test_percentiles_are_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile([7.0], 0.99) == 7.0


def test_a_clean_run_meets_its_goals_and_counts_api_requests_only():
    result = _result()
    assert result.goals_met
    assert result.api_requests == 3  # the developer pages are not API requests
    report = render(result)
    assert "| badge | 2 | 20 | 30 | 0 |" in report
    assert "goals (0 errors, RSS under 500 MB, every send notified): met" in report


@pytest.mark.parametrize(
    "changes",
    [
        {"delivery": Delivery(sends=3, emailed=3, pushed=2, seconds_to_drain=120.0)},
        {"delivery": Delivery(sends=3, emailed=2, pushed=3, seconds_to_drain=120.0)},
        {"rss_peak_mb": 501.0},
        {"dead_letters": 1},
        {"watch": WatchResult(cancelled_transactions=2, left_behind=1)},
        {"watch": WatchResult(unexpected=["probe 1: the transaction committed"])},
    ],
)
def test_a_run_missing_any_goal_is_reported_as_missed(changes):
    result = _result(**changes)
    assert not result.goals_met
    assert "every send notified): MISSED" in render(result)


def test_an_error_is_counted_and_shown_with_its_first_answer():
    result = _result()
    result.tally.record("GET /_local/push", 10.0, "502 Cannot read the AWS emulator's sent messages")
    assert not result.goals_met
    assert "- GET /_local/push: 1 errors, first: 502 Cannot read" in render(result)
