"""``python -m benchmarks.api_requests`` still measures something real (small sizes, so it is fast).

Not a timed test: it proves the benchmark runs against the current handler, that its counters see
requests and items, and that its size check can tell a size-dependent operation from a flat one.
"""

from __future__ import annotations

import pytest

from benchmarks.api_requests import PAGE_SIZE, Report, Row, measure, render


@pytest.fixture(scope="module")
def report() -> Report:
    return measure((5, 50))


def _row(report: Report, label: str) -> Row:
    return next(row for row in report.rows if row.operation.label.startswith(label))


def test_first_page_operations_cost_the_same_at_both_sizes(report: Report) -> None:
    assert report.independent, [row.difference() for row in report.size_dependent]


def test_every_operation_makes_requests_and_reads_items(report: Report) -> None:
    for row in report.rows:
        assert row.small.cost.total_requests > 0, row.operation.label
        # Even writes read first (the caller's entry, the users); the big inbox fills every page.
        assert row.large.cost.items_read > 0, row.operation.label


def test_listing_reads_one_page_and_counts_what_it_lists(report: Report) -> None:
    listing = _row(report, "list threads")
    assert dict(listing.large.cost.requests) == {"Query": 1}
    assert listing.large.cost.items_read == listing.large.listed == PAGE_SIZE
    assert listing.small.cost.items_read == listing.small.listed == 5


def test_the_size_check_sees_an_operation_that_grows(report: Report) -> None:
    # offset=100 reads offset + limit items: all 5 in the small inbox, all 50 in the big one.
    deep = _row(report, "list threads offset=100")
    assert (deep.small.cost.items_read, deep.large.cost.items_read) == (5, 50)
    assert not deep.same_cost
    assert not deep.operation.first_page


def test_the_report_renders_as_one_markdown_table(report: Report) -> None:
    text = render(report)
    assert sum(line.startswith("| --- |") for line in text.splitlines()) == 1
    assert "| 5 threads: requests |" in text and "| 50 threads: requests |" in text


def test_a_send_costs_one_transaction_and_at_most_two_or_three_reads(report: Report) -> None:
    # Given the measured sends (writing in a thread, and each form of a new message)
    sends = [row for row in report.rows if row.operation.label.startswith("write ")]
    assert len(sends) == 6
    for row in sends:
        requests = dict(row.large.cost.requests)
        # Then each is one transaction, and its reads are BatchGetItems only: two in a thread,
        # at most three for a new message (names, then the recipient and pair, then the entries)
        assert requests.pop("TransactWriteItems") == 1, row.operation.label
        assert set(requests) == {"BatchGetItem"}, row.operation.label
        limit = 2 if row.operation.label == "write in thread" or row.operation.remembers_pairs else 3
        assert requests["BatchGetItem"] <= limit, row.operation.label
