"""The business itself: its locations (each in its own time zone) and its staff."""

from __future__ import annotations

from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from regulars.domain.customers import Role, normalise_email

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def known_zone(value: str) -> str:
    """The zone name unchanged, or a ValueError saying it is not an IANA zone."""
    # Loading the zone is the test (and is cached by zoneinfo); listing every known zone
    # first, as available_timezones() does, walks the whole tz database on each call.
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not an IANA time zone, e.g. Europe/Lisbon") from None
    return value


#: An IANA time zone name that this machine's tz database knows (a location's, a program's).
ZoneName = Annotated[str, AfterValidator(known_zone)]


class LocationIn(BaseModel):
    """A shop, café, dealership or office; plans run at ``plan_hour`` in its own time zone."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: Annotated[str, Field(pattern=r"^[A-Z0-9-]{2,40}$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    brand: Annotated[str, Field(max_length=120)] = ""
    kind: Literal["cafe", "dealership", "optician", "hotel", "shop", "office"] = "shop"
    timezone: ZoneName
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "EUR"
    city: Annotated[str, Field(max_length=120)] = ""
    plan_hour: Annotated[int, Field(ge=0, le=23)] = 6


class StaffIn(BaseModel):
    """A member of staff: role, locations, and how many calls a day they can make."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: str
    name: Annotated[str, Field(min_length=1, max_length=200)]
    role: Role
    locations: Annotated[list[str], Field(min_length=1)]
    daily_call_capacity: Annotated[int, Field(ge=0, le=500)] = 0
    working_days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalise_email(value)
