"""An exchange's life: request, answer, counter, accept, hand-over confirmed by both."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from listings import exchanges as x
from listings.errors import Conflict, Forbidden

NOW = datetime(2027, 3, 1, 9, tzinfo=UTC)
FARM, CANTEEN, STRANGER = "farm", "canteen", "stranger"


def asked(quantity: float = 5.0) -> x.Exchange:
    return x.request("offer-1", FARM, CANTEEN, x.Terms(quantity), "pallets", NOW)


def test_a_request_waits_for_the_owner_and_expires_unanswered() -> None:
    exchange = asked()
    assert (exchange.status, exchange.awaiting) == (x.REQUESTED, FARM)
    assert x.expire(exchange, NOW + timedelta(days=1)) is None
    expired = x.expire(exchange, NOW + x.ANSWER_WITHIN)
    assert expired is not None and expired.status == x.EXPIRED
    with pytest.raises(Conflict, match="expired"):
        x.accept(exchange, FARM, NOW + x.ANSWER_WITHIN)


def test_a_counter_proposal_passes_the_turn_to_the_other_side() -> None:
    countered = x.counter(asked(), FARM, x.Terms(3.0), NOW)
    assert (countered.status, countered.awaiting, countered.terms.quantity) == (
        x.COUNTERED,
        CANTEEN,
        3.0,
    )
    with pytest.raises(Conflict, match="other side"):
        x.accept(countered, FARM, NOW)
    accepted = x.accept(countered, CANTEEN, NOW)
    assert (accepted.status, accepted.awaiting, accepted.reserves) == (x.ACCEPTED, None, 3.0)
    assert accepted.version == 3


def test_only_the_two_organisations_may_act() -> None:
    with pytest.raises(Forbidden):
        x.accept(asked(), STRANGER, NOW)
    with pytest.raises(Forbidden):
        x.cancel(asked(), STRANGER, NOW)


def test_the_requester_cannot_accept_its_own_request() -> None:
    with pytest.raises(Conflict, match="other side"):
        x.accept(asked(), CANTEEN, NOW)


def test_an_organisation_cannot_ask_itself() -> None:
    with pytest.raises(Conflict, match="itself"):
        x.request("offer-1", FARM, FARM, x.Terms(1.0), "kg", NOW)


def test_terms_must_be_a_positive_quantity_in_a_window_that_makes_sense() -> None:
    with pytest.raises(Conflict, match="more than 0"):
        x.Terms(0)
    with pytest.raises(Conflict, match="window"):
        x.Terms(1.0, NOW, NOW - timedelta(hours=1))


def test_the_hand_over_is_completed_when_both_sides_confirmed_it() -> None:
    accepted = x.accept(asked(5.0), FARM, NOW)
    once = x.hand_over(accepted, FARM, 5.0, NOW, reference="ticket 42")
    assert once.status == x.ACCEPTED and x.handed_over_quantity(once) is None
    both = x.hand_over(once, CANTEEN, 4.5, NOW)
    assert both.status == x.COMPLETED
    assert x.handed_over_quantity(both) == 4.5  # the smaller figure when they differ
    assert both.reference == "ticket 42"
    with pytest.raises(Conflict):
        x.cancel(both, FARM, NOW)


def test_nothing_is_handed_over_before_it_is_accepted() -> None:
    with pytest.raises(Conflict, match="accepted"):
        x.hand_over(asked(), FARM, 5.0, NOW)


def test_either_side_cancels_until_completion_and_a_declined_one_stays_declined() -> None:
    assert x.cancel(asked(), CANTEEN, NOW).status == x.CANCELLED
    assert x.cancel(x.accept(asked(), FARM, NOW), FARM, NOW).status == x.CANCELLED
    declined = x.decline(asked(), FARM, NOW)
    with pytest.raises(Conflict):
        x.cancel(declined, CANTEEN, NOW)


def test_a_problem_is_reported_on_an_accepted_exchange_with_words() -> None:
    accepted = x.accept(asked(), FARM, NOW)
    reported = x.report_problem(accepted, CANTEEN, "  nobody came  ", NOW)
    assert reported.problem == "nobody came"
    with pytest.raises(Conflict, match="say what"):
        x.report_problem(accepted, CANTEEN, " ", NOW)
    with pytest.raises(Conflict, match="accepted"):
        x.report_problem(asked(), CANTEEN, "no-show", NOW)


def test_a_completed_weekly_exchange_repeats_a_week_later_until_stopped() -> None:
    monday = datetime(2027, 3, 1, 8, tzinfo=UTC)
    weekly = x.request(
        "veg-1", FARM, CANTEEN, x.Terms(10, monday, monday), "kg", NOW, repeats="weekly"
    )
    done = x.hand_over(x.hand_over(x.accept(weekly, FARM, NOW), FARM, 10, NOW), CANTEEN, 10, NOW)
    following = x.next_occurrence(done, NOW)
    assert following is not None
    assert (following.status, following.occurrence, following.series_id) == (
        x.ACCEPTED,
        2,
        weekly.id,
    )
    assert following.terms.window_from == monday + timedelta(weeks=1)
    last = x.stop_repeating(following, CANTEEN, NOW)
    finished = x.hand_over(x.hand_over(last, FARM, 10, NOW), CANTEEN, 10, NOW)
    assert x.next_occurrence(finished, NOW) is None


def test_a_monthly_standing_order_keeps_its_day_or_the_months_last() -> None:
    end_of_january = datetime(2027, 1, 31, 9, tzinfo=UTC)
    monthly = x.request(
        "p-1", FARM, CANTEEN, x.Terms(5, end_of_january), "pallets", NOW, repeats="monthly"
    )
    done = x.hand_over(x.hand_over(x.accept(monthly, FARM, NOW), FARM, 5, NOW), CANTEEN, 5, NOW)
    following = x.next_occurrence(done, NOW)
    assert following is not None and following.terms.window_from == datetime(
        2027, 2, 28, 9, tzinfo=UTC
    )


def test_a_one_off_exchange_does_not_repeat_nor_can_it_be_stopped() -> None:
    done = x.hand_over(x.hand_over(x.accept(asked(), FARM, NOW), FARM, 5, NOW), CANTEEN, 5, NOW)
    assert x.next_occurrence(done, NOW) is None
    with pytest.raises(Conflict, match="does not repeat"):
        x.stop_repeating(x.accept(asked(), FARM, NOW), FARM, NOW)
