"""Believable names for the demo's customers, drawn once from Faker and then reused.

Faker is slow per call and its output depends on call order, so each locale's names are
drawn into fixed pools from a seeded Faker up front; the generator then picks from the pools
with its own ``random.Random``. The same seed always gives the same people.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from faker import Faker

#: Faker locale for each city's customers.
LOCALES: dict[str, str] = {
    "Lisbon": "pt_PT",
    "London": "en_GB",
    "New York": "en_US",
    "Denver": "en_US",
    "Naples": "en_US",
}

POOL_SIZE = 400


@dataclass(frozen=True)
class NamePool:
    female: tuple[str, ...]
    male: tuple[str, ...]
    last: tuple[str, ...]

    def person(self, rng: random.Random) -> tuple[str, str, str]:
        """A (first name, last name, gender) triple; gender only picks the first-name list."""
        gender = "f" if rng.random() < 0.5 else "m"
        first = rng.choice(self.female if gender == "f" else self.male)
        return first, rng.choice(self.last), gender

    def partner(self, rng: random.Random, gender: str) -> str:
        """A first name for a spouse (mostly of the other gender)."""
        other = "m" if gender == "f" else "f"
        if rng.random() < 0.08:
            other = gender
        return rng.choice(self.female if other == "f" else self.male)


def name_pools(seed: int) -> dict[str, NamePool]:
    """One pool of first and last names per city, the same for the same seed."""
    pools: dict[str, NamePool] = {}
    for city, locale in sorted(LOCALES.items()):
        fake = Faker(locale)
        fake.seed_instance(seed * 7919 + sum(map(ord, city)))
        female = _draw(fake.first_name_female)
        male = _draw(fake.first_name_male)
        last = _draw(fake.last_name)
        pools[city] = NamePool(female, male, last)
    return pools


def _draw(make: Callable[[], str]) -> tuple[str, ...]:
    """Distinct names in the order Faker gave them (order matters for determinism)."""
    seen: dict[str, None] = {}
    for _ in range(POOL_SIZE):
        name = str(make())
        if len(name) <= 60:
            seen.setdefault(name, None)
    return tuple(seen)
