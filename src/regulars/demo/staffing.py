"""The demo business's people: an owner, a manager per location, counter staff and reps.

Reps at the dealerships own customer relationships and have a daily call capacity and
working days; Dave in Naples is the rep of the seed story, who rings his customers on their
birthdays.
"""

from __future__ import annotations

from dataclasses import dataclass

from regulars.demo.catalogue import PLACES


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    role: str
    locations: tuple[str, ...]
    daily_call_capacity: int = 0
    working_days: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri")


_COUNTER: dict[str, tuple[str, ...]] = {
    "CAFE-LIS": ("Joana Ribeiro", "Tiago Matos", "Beatriz Sousa"),
    "CAFE-LON": ("Priya Shah", "Tom Whitaker", "Ellie Morgan"),
    "CAFE-NYC": ("Marcus Reid", "Sofia Alvarez", "Dev Patel"),
    "CAFE-DEN": ("Hannah Brooks", "Luis Ortega", "Kayla Nguyen"),
    "VW-NAPLES": ("Gloria Diaz",),
    "VW-DENVER": ("Owen Clarke",),
    "OPT-LON": ("Amira Haddad",),
}
_MANAGERS: dict[str, str] = {
    "CAFE-LIS": "Rita Fonseca",
    "CAFE-LON": "James Carter",
    "CAFE-NYC": "Nina Rossi",
    "CAFE-DEN": "Ben Walsh",
    "VW-NAPLES": "Carla Jensen",
    "VW-DENVER": "Mike Sullivan",
    "OPT-LON": "Helen Price",
}
_REPS: dict[str, tuple[tuple[str, int, tuple[str, ...]], ...]] = {
    "VW-NAPLES": (
        ("Dave Morales", 12, ("mon", "tue", "wed", "thu", "fri")),
        ("Angela Brooks", 10, ("tue", "wed", "thu", "fri", "sat")),
        ("Sam Whitfield", 8, ("mon", "wed", "fri", "sat")),
    ),
    "VW-DENVER": (
        ("Lena Fischer", 10, ("mon", "tue", "wed", "thu", "fri")),
        ("Chris Romero", 9, ("mon", "tue", "thu", "fri", "sat")),
    ),
    "OPT-LON": (("Grace Okafor", 6, ("mon", "tue", "wed", "thu")),),
}

OWNER_EMAIL = "owner@regulars.example"


def _email(name: str) -> str:
    first, _, last = name.lower().partition(" ")
    return f"{first}.{last.replace(' ', '')}@regulars.example"


def demo_staff() -> list[Person]:
    """Everyone, owner first, in a fixed order (so staff ids are the same on every build)."""
    people = [
        Person(
            OWNER_EMAIL,
            "Olivia Grant",
            "owner",
            tuple(p.code for p in PLACES),
            working_days=("mon", "tue", "wed", "thu", "fri", "sat"),
        )
    ]
    for place in PLACES:
        people.append(
            Person(
                _email(_MANAGERS[place.code]),
                _MANAGERS[place.code],
                "manager",
                (place.code,),
                daily_call_capacity=4,
            )
        )
        for name, capacity, days in _REPS.get(place.code, ()):
            people.append(Person(_email(name), name, "rep", (place.code,), capacity, days))
        for name in _COUNTER[place.code]:
            people.append(
                Person(
                    _email(name),
                    name,
                    "staff",
                    (place.code,),
                    working_days=("mon", "tue", "wed", "thu", "fri", "sat"),
                )
            )
    return people


STORY_REP_EMAIL = _email("Dave Morales")
