"""Profile rules: phone numbers an SMS provider accepts, 29 February, quiet hours at night."""

from __future__ import annotations

from datetime import date, time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from regulars.domain.business import LocationIn
from regulars.domain.customers import (
    NAME_KEY_LENGTH,
    CustomerIn,
    QuietHours,
    birthday_key,
    celebrated_birthday,
    name_key,
    normalise_card_number,
    normalise_email,
    normalise_phone,
)
from regulars.domain.errors import InvalidInput, validate


def test_phone_numbers_typed_with_spaces_and_dashes_become_e164() -> None:
    assert normalise_phone("+351 912-345 678") == "+351912345678"
    assert normalise_phone("0044 (20) 7946 0958") == "+442079460958"


@pytest.mark.parametrize("bad", ["912345678", "+0123456789", "+351 91x", "+1234"])
def test_phone_numbers_without_a_country_code_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="international form"):
        normalise_phone(bad)


def test_an_email_domain_is_lower_cased_but_the_mailbox_is_kept() -> None:
    assert normalise_email(" Ana.Silva@Example.COM ") == "Ana.Silva@example.com"
    with pytest.raises(ValueError):
        normalise_email("ana@@example")


def test_card_numbers_compare_upper_case_without_spaces() -> None:
    assert normalise_card_number("c-100 200") == "C-100200"


def test_a_29_february_birthday_is_celebrated_by_the_business_rule_in_common_years() -> None:
    leapling = date(1992, 2, 29)
    assert celebrated_birthday(leapling, 2028) == date(2028, 2, 29)
    assert celebrated_birthday(leapling, 2026) == date(2026, 2, 28)
    assert celebrated_birthday(leapling, 2026, "mar1") == date(2026, 3, 1)
    assert birthday_key(leapling) == 229


@given(
    st.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=1901, max_value=2100),
)
def test_every_birthday_is_celebrated_exactly_once_a_year_in_its_month(
    birthday: date, year: int
) -> None:
    day = celebrated_birthday(birthday, year)
    assert day.year == year
    assert day.month in (birthday.month, 3)


def test_quiet_hours_may_span_midnight() -> None:
    night = QuietHours(start=time(21), end=time(8))
    assert night.covers(time(23, 30))
    assert night.covers(time(7, 59))
    assert not night.covers(time(8, 0))
    assert not night.covers(time(12))
    siesta = QuietHours(start=time(13), end=time(15))
    assert siesta.covers(time(14)) and not siesta.covers(time(16))


def test_a_new_customer_with_bad_fields_is_refused_naming_each_field() -> None:
    with pytest.raises(InvalidInput) as caught:
        validate(CustomerIn, {"first_name": "", "phone": "12", "birthday": "1990-04-31"})
    fields = {p.field for p in caught.value.problems}
    assert fields == {"first_name", "phone", "birthday"}


def test_preferring_email_without_an_address_is_refused() -> None:
    with pytest.raises(InvalidInput, match="preferred_channel is email"):
        validate(CustomerIn, {"first_name": "Ana", "preferred_channel": "email"})


@pytest.mark.parametrize("zone", ["Europe/Lisbon", "America/New_York", "UTC"])
def test_a_location_takes_any_iana_time_zone(zone: str) -> None:
    place = validate(LocationIn, {"code": "CAFE-LIS", "name": "Lisbon", "timezone": zone})
    assert place.timezone == zone


@pytest.mark.parametrize("zone", ["Mars/Olympus", "Europe", "America/", "../etc/passwd", ""])
def test_a_location_with_an_unknown_time_zone_is_refused_by_name(zone: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        validate(LocationIn, {"code": "CAFE-LIS", "name": "Lisbon", "timezone": zone})
    assert caught.value.field == "timezone"


def test_name_keys_fold_case_accents_and_spaces() -> None:
    assert name_key("  João   MÜLLER ") == "joao muller"
    assert name_key("Groß") == "gross"
    assert name_key("Ñúñez") == "nunez"


@given(st.text(max_size=200))
def test_a_name_key_is_stable_and_never_too_long(text: str) -> None:
    key = name_key(text)
    assert name_key(key) == key
    assert len(key) <= NAME_KEY_LENGTH
