"""The planner's pure rules: birthdays, guards, pressure and capacity, as a manager sees them."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from hypothesis import given
from hypothesis import strategies as st

from regulars.domain import guards
from regulars.domain.capacity import Caller, Standing, allocate
from regulars.domain.decisions import Choice, choose
from regulars.domain.guards import Proposal, Situation
from regulars.domain.moments import Candidate, MomentKind, birthday_keys, is_lapsing
from regulars.domain.playbooks import Caps, Purpose, Rule, Touch
from regulars.domain.pressure import SentLately, apply_caps, merge_human

NOW = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)
DAY = date(2026, 5, 1)
EMAIL_OK = Situation(zone="Europe/Lisbon", has_email=True, consents={"email": True})


def test_a_29_february_birthday_is_celebrated_on_the_28th_or_the_1st_in_common_years() -> None:
    assert birthday_keys(date(2027, 2, 28), "feb28") == [228, 229]
    assert birthday_keys(date(2027, 3, 1), "feb28") == [301]
    assert birthday_keys(date(2027, 3, 1), "mar1") == [301, 229]
    assert birthday_keys(date(2028, 2, 29), "feb28") == [229]
    assert birthday_keys(date(2028, 2, 28), "feb28") == [228]


def test_a_regular_is_lapsing_only_after_their_own_gap_times_k_and_the_floor() -> None:
    seen = NOW - timedelta(days=20)
    assert is_lapsing(seen, usual_gap=7.0, now=NOW, factor=2.0, minimum_days=14)
    assert not is_lapsing(seen, usual_gap=30.0, now=NOW, factor=2.0, minimum_days=14)
    assert not is_lapsing(
        NOW - timedelta(days=3), usual_gap=1.0, now=NOW, factor=2.0, minimum_days=14
    )
    assert not is_lapsing(seen, usual_gap=None, now=NOW, factor=2.0, minimum_days=14)


def test_a_visit_today_moves_the_birthday_email_to_the_counter() -> None:
    visited = Situation(
        **{**EMAIL_OK.__dict__, "visit_at": datetime(2026, 5, 1, 8, 40, tzinfo=UTC)}
    )

    verdict = guards.check(Proposal("birthday", "email", Purpose.greeting), visited, NOW)

    assert verdict.action == "counter"
    assert verdict.reason == (
        "in-store visit at 09:40 today → greeting moved to the counter; e-mail suppressed"
    )


def test_a_confirmed_greeting_lets_the_email_follow_the_visit() -> None:
    greeted = Situation(
        **{
            **EMAIL_OK.__dict__,
            "visit_at": datetime(2026, 5, 1, 8, 40, tzinfo=UTC),
            "greeted": frozenset({"birthday"}),
        }
    )
    assert guards.check(Proposal("birthday", "email"), greeted, NOW).allowed


def test_a_visit_does_not_stop_messages_that_are_not_greetings() -> None:
    visited = Situation(**{**EMAIL_OK.__dict__, "visit_at": NOW})
    assert guards.check(Proposal("tier_up", "email"), visited, NOW).allowed


def test_an_open_complaint_stops_asks_but_not_the_recovery_call() -> None:
    upset = Situation(has_phone=True, has_email=True, consents={"email": True}, open_complaint=True)
    for purpose in (Purpose.promotion, Purpose.survey, Purpose.referral, Purpose.upsell):
        verdict = guards.check(Proposal("points_expiring", "email", purpose), upset, NOW)
        assert verdict.action == "suppress"
        assert verdict.reason == f"open complaint → no {purpose.value} until it is resolved"
    assert guards.check(Proposal("complaint_open", "call", Purpose.recovery), upset, NOW).allowed


def test_a_recent_detractor_stops_asks_for_the_configured_days_only() -> None:
    unhappy = Situation(**{**EMAIL_OK.__dict__, "unhappy_at": NOW - timedelta(days=10)})
    ask = Proposal("purchase_milestone", "email", Purpose.referral)
    assert guards.check(ask, unhappy, NOW, unhappy_days=30).action == "suppress"
    assert guards.check(ask, unhappy, NOW, unhappy_days=7).allowed


def test_consent_and_an_address_are_needed_for_automated_messages() -> None:
    assert (
        guards.check(Proposal("birthday", "email"), Situation(), NOW).reason == "no e-mail address"
    )
    no_consent = Situation(has_email=True)
    assert (
        guards.check(Proposal("birthday", "email"), no_consent, NOW).reason
        == "no consent for e-mail"
    )
    withdrawn = Situation(has_phone=True, consents={"phone": False})
    assert (
        "withdrew consent for calls"
        in guards.check(Proposal("birthday", "call"), withdrawn, NOW).reason
    )


def test_do_not_contact_and_deceased_stop_everything() -> None:
    for status in ("do_not_contact", "deceased"):
        gone = Situation(**{**EMAIL_OK.__dict__, "status": status})
        assert guards.check(Proposal("birthday", "email"), gone, NOW).action == "suppress"


def test_quiet_hours_defer_a_message_to_their_end_in_the_customers_zone() -> None:
    quiet = Situation(
        **{**EMAIL_OK.__dict__, "quiet_start": time(21, 0), "quiet_end": time(10, 30)}
    )

    verdict = guards.check(Proposal("birthday", "email"), quiet, NOW)  # 09:00 in Lisbon

    assert verdict.action == "defer"
    assert verdict.until == datetime(2026, 5, 1, 9, 30, tzinfo=UTC)  # 10:30 Lisbon (UTC+1)


def test_a_second_call_the_same_day_is_not_planned() -> None:
    busy = Situation(has_phone=True, human_today=True)
    verdict = guards.check(Proposal("tier_up", "call"), busy, NOW)
    assert verdict.reason == "a human touch is already planned for this customer today"


def _rule(
    *touches: Touch,
    purpose: Purpose = Purpose.relationship,
    moment: MomentKind = MomentKind.birthday,
) -> Rule:
    return Rule(moment=moment, touches=list(touches), purpose=purpose)


def test_the_first_touch_the_guards_allow_is_chosen_and_the_skipped_ones_are_explained() -> None:
    rule = _rule(
        Touch(touch="sms", template="birthday_greeting"),
        Touch(touch="email", template="birthday_greeting", send_at=time(10, 0)),
    )
    choice = choose(
        Candidate(1, MomentKind.birthday, "2026"),
        rule,
        EMAIL_OK,
        day=DAY,
        now=NOW,
        default_send_at=time(9, 0),
        unhappy_days=30,
    )
    assert choice.touch_kind == "email"
    assert choice.send_after == datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
    assert choice.explanation == "birthday; SMS: no mobile number; e-mail at 10:00 local"


def _email_choice(moment: MomentKind, purpose: Purpose, occasion: str = "x") -> Choice:
    touch = Touch(touch="email", template="generic")
    choice = Choice(Candidate(1, moment, occasion), _rule(touch, purpose=purpose, moment=moment))
    choice.touch, choice.status = touch, "planned"
    return choice


def test_birthday_and_expiring_points_become_one_call() -> None:
    call = Touch(touch="call")
    birthday = Choice(
        Candidate(1, MomentKind.birthday, "2026"), _rule(call), touch=call, status="planned"
    )
    points = _email_choice(MomentKind.points_expiring, Purpose.promotion)

    merge_human([points, birthday])

    assert points.status == "merged"
    assert points.merged_into == birthday.candidate.key
    assert "merged into the birthday call" in points.explanation
    assert "also covers: points about to expire" in birthday.explanation


def test_transactional_messages_are_exempt_from_the_caps() -> None:
    notice = _email_choice(MomentKind.service_due, Purpose.transactional)
    apply_caps([notice], Caps(), SentLately(total=9, per_channel={"email": 9}))
    assert notice.status == "planned"


moment_kinds = st.sampled_from(
    [
        MomentKind.birthday,
        MomentKind.tier_up,
        MomentKind.points_expiring,
        MomentKind.lapsing,
        MomentKind.first_purchase,
        MomentKind.anniversary,
        MomentKind.close_to_next_tier,
    ]
)
purposes = st.sampled_from([Purpose.relationship, Purpose.promotion, Purpose.greeting])


@given(
    wants=st.lists(st.tuples(moment_kinds, purposes), min_size=0, max_size=12),
    already=st.integers(min_value=0, max_value=3),
    cap=st.integers(min_value=0, max_value=4),
    promo_cap=st.integers(min_value=0, max_value=2),
)
def test_caps_are_never_exceeded_and_the_most_important_go_first(
    wants: list[tuple[MomentKind, Purpose]], already: int, cap: int, promo_cap: int
) -> None:
    choices = [_email_choice(m, p, str(n)) for n, (m, p) in enumerate(wants)]
    caps = Caps(automated_per_week=cap, promotional_per_week=promo_cap, per_channel_per_week={})

    apply_caps(choices, caps, SentLately(total=already))

    kept = [c for c in choices if c.status == "planned"]
    assert len(kept) <= max(cap - already, 0)
    assert sum(1 for c in kept if c.purpose == Purpose.promotion) <= promo_cap
    for dropped in (c for c in choices if c.status == "skipped"):
        assert "contact cap" in dropped.explanation
        if dropped.purpose != Purpose.promotion:
            assert all(k.priority >= dropped.priority for k in kept)


def _call(customer: int, moment: MomentKind = MomentKind.birthday) -> Choice:
    touch = Touch(touch="call")
    return Choice(
        Candidate(customer, moment, "2026"),
        _rule(touch, moment=moment),
        touch=touch,
        status="planned",
    )


def test_calls_go_to_the_owner_first_then_the_team_and_overflow_says_why() -> None:
    rita = Caller(1, "Rita", frozenset({10}), capacity=1, working_days=frozenset({"fri"}))
    rui = Caller(2, "Rui", frozenset({10}), capacity=1, working_days=frozenset({"fri"}))
    a, b, c = _call(100), _call(101), _call(102, MomentKind.anniversary)

    overflow = allocate(
        [
            (c, Standing(owner_id=1, location_id=10)),
            (a, Standing(owner_id=1, location_id=10, tier="gold")),
            (b, Standing(owner_id=1, location_id=10)),
        ],
        [rita, rui],
        DAY,  # a Friday
    )

    assert a.assignee == 1 and "call by their advisor Rita" in a.explanation
    assert b.assignee == 2 and "advisor Rita has no calls left today" in b.explanation
    assert overflow == [c]
    assert "no call capacity left today" in c.explanation


def test_staff_who_do_not_work_today_take_no_calls() -> None:
    weekday_only = Caller(1, "Rita", frozenset({10}), capacity=5, working_days=frozenset({"mon"}))
    call = _call(100)
    assert allocate([(call, Standing(owner_id=1, location_id=10))], [weekday_only], DAY) == [call]
    assert "advisor Rita is off today" in call.explanation


@given(
    capacities=st.lists(st.integers(min_value=0, max_value=4), min_size=1, max_size=4),
    calls=st.integers(min_value=0, max_value=20),
)
def test_nobody_is_given_more_calls_than_their_capacity(capacities: list[int], calls: int) -> None:
    callers = [
        Caller(n + 1, f"S{n}", frozenset({10}), capacity=cap, working_days=frozenset({"fri"}))
        for n, cap in enumerate(capacities)
    ]
    wanted = [
        (_call(100 + n), Standing(owner_id=(n % 3) + 1, location_id=10)) for n in range(calls)
    ]

    overflow = allocate(wanted, callers, DAY)

    for caller in callers:
        given_calls = sum(1 for choice, _ in wanted if choice.assignee == caller.id)
        assert given_calls <= caller.capacity
    assert len(overflow) == max(calls - sum(capacities), 0)
