"""Customers, their households, what they own and what they like.

These are the shapes a profile takes on its way in (create, update) and the rules it obeys:
a phone number in E.164 so that an SMS provider accepts it, a birthday that may well be
29 February, quiet hours in the customer's own time, consent per channel with when and how
it was given. Pure data and rules; storing them is the store's job.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from datetime import date, time
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from regulars.domain.events import Channel, RowId

#: ASCII digits only (``\d`` would take Arabic-Indic or full-width ones no SMS network reads).
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
EMAIL = re.compile(r"^[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[A-Za-z]{2,}$")
CARD_NUMBER = re.compile(r"^[A-Z0-9-]{4,40}$")


class CustomerStatus(StrEnum):
    """Where a customer stands; anything but ``active`` stops every automated contact."""

    active = "active"
    do_not_contact = "do_not_contact"
    deceased = "deceased"
    merged = "merged"
    erased = "erased"


class Role(StrEnum):
    """What a member of staff may do; ``rep`` owns relationships and makes calls."""

    owner = "owner"
    manager = "manager"
    staff = "staff"
    rep = "rep"


def normalise_phone(value: str) -> str:
    """Strip the spaces, dashes and brackets people type; demand E.164 (+ and country code)."""
    compact = re.sub(r"[\s().-]", "", value)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if not E164.fullmatch(compact):
        raise ValueError("a phone number needs the international form, e.g. +351912345678")
    return compact


def normalise_email(value: str) -> str:
    """Keep the mailbox as typed but lower-case the domain, which is case-insensitive."""
    value = value.strip()
    if not EMAIL.match(value) or len(value) > 254:
        raise ValueError("not an e-mail address")
    local, domain = value.rsplit("@", 1)
    return f"{local}@{domain.lower()}"


def normalise_card_number(value: str) -> str:
    """Card numbers are scanned or typed; compare them upper-case without spaces."""
    compact = value.replace(" ", "").upper()
    if not CARD_NUMBER.match(compact):
        raise ValueError("a card number is 4 to 40 letters, digits or dashes")
    return compact


#: The longest name key stored; a case-folded name can be longer than the name itself.
NAME_KEY_LENGTH = 240


def name_key(text: str) -> str:
    """A name as search compares it: case-folded, accents dropped, spaces collapsed.

    Stored beside the name and indexed, so that "joao" finds "João" with an index range
    scan on SQLite and PostgreSQL alike; SQL's ``lower()`` folds only ASCII on SQLite and
    cannot be indexed for prefix search there.
    """
    key = text
    # Compatibility decomposition can bring back capitals (ϒ → Υ), so fold until it settles.
    for _ in range(4):
        decomposed = unicodedata.normalize("NFKD", key.casefold())
        folded = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
        if folded == key:
            break
        key = folded
    return " ".join(key.split())[:NAME_KEY_LENGTH].rstrip()


def birthday_key(birthday: date) -> int:
    """Month and day as one sortable number (29 February → 229), indexed for the planner."""
    return birthday.month * 100 + birthday.day


def derived_columns(values: Mapping[str, Any]) -> dict[str, Any]:
    """The indexed keys that follow from the profile fields present in ``values``.

    Every writer of a customer row (enrolment, update, erasure, the demo's set-based build)
    adds these, so that the planner's birthday index and name search never go stale.
    """
    keys: dict[str, Any] = {}
    if "birthday" in values:
        keys["birthday_key"] = birthday_key(values["birthday"]) if values["birthday"] else None
    if "first_name" in values:
        keys["search_first"] = name_key(values["first_name"] or "")
    if "last_name" in values:
        keys["search_last"] = name_key(values["last_name"] or "")
    return keys


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class QuietHours(_Input):
    """A daily window (customer's local time) when no automated message may arrive."""

    start: time = time(21, 0)
    end: time = time(8, 0)

    @model_validator(mode="after")
    def _not_empty(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("quiet hours start and end at the same time")
        return self

    def covers(self, moment: time) -> bool:
        """True when a local wall-clock time falls inside the window (which may span midnight)."""
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end


class ConsentIn(_Input):
    """Permission to contact on one channel, with when and how it was given or withdrawn."""

    channel: Channel
    granted: bool
    at: AwareDatetime
    source: Annotated[str, Field(min_length=1, max_length=120)] = "staff"


Phone = Annotated[str, Field(min_length=7, max_length=30)]
Email = Annotated[str, Field(min_length=3, max_length=254)]


class _Contact(_Input):
    @field_validator("phone", check_fields=False)
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value in (None, "") else normalise_phone(value)

    @field_validator("email", check_fields=False)
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value in (None, "") else normalise_email(value)

    @field_validator("card_number", check_fields=False)
    @classmethod
    def _card(cls, value: str | None) -> str | None:
        return None if value in (None, "") else normalise_card_number(value)


Language = Annotated[str, Field(pattern=r"^[a-z]{2}(-[A-Z]{2})?$")]
PersonName = Annotated[str, Field(min_length=1, max_length=120)]


class CustomerIn(_Contact):
    """A new customer as a till, a form or an import describes them."""

    card_number: str | None = None
    first_name: PersonName
    last_name: Annotated[str, Field(max_length=120)] = ""
    email: Email | None = None
    phone: Phone | None = None
    birthday: date | None = None
    language: Language = "en"
    preferred_channel: Channel | None = None
    quiet_hours: QuietHours | None = None
    city: Annotated[str, Field(max_length=120)] = ""
    home_location: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    owner_staff_id: RowId | None = None
    status: Literal["active", "do_not_contact", "deceased"] = "active"
    consents: list[ConsentIn] = []
    external_refs: dict[
        Annotated[str, Field(min_length=1, max_length=60)],
        Annotated[str, Field(min_length=1, max_length=120)],
    ] = {}

    @model_validator(mode="after")
    def _preferred_channel_reachable(self) -> CustomerIn:
        if self.preferred_channel == Channel.email and not self.email:
            raise ValueError("preferred_channel is email but no email is given")
        if self.preferred_channel == Channel.sms and not self.phone:
            raise ValueError("preferred_channel is sms but no phone is given")
        return self


class CustomerPatch(_Contact):
    """A partial update: only the fields present change (``null`` clears an optional field)."""

    card_number: str | None = None
    first_name: PersonName | None = None
    last_name: Annotated[str, Field(max_length=120)] | None = None
    email: Email | None = None
    phone: Phone | None = None
    birthday: date | None = None
    language: Language | None = None
    preferred_channel: Channel | None = None
    quiet_hours: QuietHours | None = None
    city: Annotated[str, Field(max_length=120)] | None = None
    home_location: Annotated[str, Field(min_length=1, max_length=40)] | None = None
    owner_staff_id: RowId | None = None
    status: Literal["active", "do_not_contact", "deceased"] | None = None

    def changes(self) -> dict[str, Any]:
        """Only what the caller actually sent."""
        return self.model_dump(exclude_unset=True)


class HouseholdMemberIn(_Input):
    """Someone who lives with the customer: a spouse has a name, a birthday and her own car."""

    name: PersonName
    relation: Literal["spouse", "partner", "child", "parent", "other"] = "spouse"
    birthday: date | None = None
    customer_id: RowId | None = None


class AssetIn(_Input):
    """Something the household owns that we sell, service or insure."""

    kind: Literal["car", "glasses", "contract", "other"]
    label: Annotated[str, Field(min_length=1, max_length=200)]
    model_code: Annotated[str, Field(max_length=120)] = Field(
        default="", description="What recalls are matched on, e.g. 'VW-ID4-2023'."
    )
    member_name: Annotated[str, Field(max_length=120)] | None = Field(
        default=None, description="The household member who uses it, when not the customer."
    )
    acquired_on: date | None = None
    service_due_on: date | None = None
    details: dict[str, str | int | None] = Field(
        default_factory=dict,
        description="make, model, year, vin for a car; prescription_date for glasses; "
        "renewal_date for a contract.",
    )


class PreferenceIn(_Input):
    """A saved preference, e.g. label 'usual order', value 'London Fog latte, extra hot'."""

    label: Annotated[str, Field(min_length=1, max_length=80)]
    value: Annotated[str, Field(min_length=1, max_length=500)]


def celebrated_birthday(birthday: date, year: int, leap_rule: str = "feb28") -> date:
    """The date a birthday falls on in ``year``; 29 February moves by the business's rule."""
    if birthday.month == 2 and birthday.day == 29:
        try:
            return date(year, 2, 29)
        except ValueError:
            return date(year, 3, 1) if leap_rule == "mar1" else date(year, 2, 28)
    return date(year, birthday.month, birthday.day)
