"""One demo customer at a time: profile, household, what they own and like, and two years of
what happened between them and the business.

Pure generation: every customer is drawn from a ``random.Random`` seeded with the demo seed
and the customer's index, so a customer does not change when the demo grows or the batches
are cut differently. Nothing here touches the database; the generator writes the plans.
"""

from __future__ import annotations

import random
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from typing import Any, Literal
from zoneinfo import ZoneInfo

from regulars.demo import catalogue as cat
from regulars.demo.names import NamePool

Behaviour = Literal["regular", "occasional", "lapser", "new"]

HISTORY_DAYS = 730
EMAIL_DOMAINS = ("example.com", "example.net", "example.org")
CAFE_CUMULATIVE = tuple(accumulate(cat.CAFE_WEIGHTS))


@dataclass(frozen=True)
class Crew:
    """Who works at a location, by staff id."""

    manager: int
    reps: tuple[int, ...]
    counter: tuple[int, ...]


@dataclass
class World:
    """Everything a customer's plan depends on besides its own random draws."""

    seed: int
    now: datetime
    location_ids: dict[str, int]
    crews: dict[str, Crew]
    pools: dict[str, NamePool]
    birthdays_today: int
    story_rep: int
    places: dict[str, cat.Place] = field(init=False)
    zones: dict[str, ZoneInfo] = field(init=False)
    start: date = field(init=False)
    calendars: dict[str, list[float]] = field(init=False)
    home_codes: tuple[str, ...] = field(init=False)
    home_weights: tuple[float, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.places = {p.code: p for p in cat.PLACES}
        self.zones = {p.code: ZoneInfo(p.timezone) for p in cat.PLACES}
        self.start = self.now.astimezone(UTC).date() - timedelta(days=HISTORY_DAYS)
        self.calendars = {
            "cafe": self._calendar(cat.CAFE_SEASON, cat.CAFE_WEEK),
            "dealership": self._calendar(cat.DEALER_SEASON, cat.DEALER_WEEK),
            "optician": self._calendar(cat.OPTICIAN_SEASON, cat.OPTICIAN_WEEK),
        }
        self.home_codes = tuple(cat.CUSTOMER_SHARE)
        self.home_weights = tuple(accumulate(cat.CUSTOMER_SHARE.values()))

    def _calendar(self, season: tuple[float, ...], week: tuple[float, ...]) -> list[float]:
        """Cumulative busyness per day of the history, for weighted day picks."""
        weights = []
        for offset in range(HISTORY_DAYS + 1):
            day = self.start + timedelta(days=offset)
            weights.append(season[day.month - 1] * week[day.weekday()])
        return [0.0, *accumulate(weights)]

    def today(self, code: str) -> date:
        """Today's date where the location is (birthdays happen in local time)."""
        return self.now.astimezone(self.zones[code]).date()


@dataclass
class Plan:
    """One customer as the services would store them, plus their timeline to ingest."""

    customer: dict[str, Any]
    consents: list[dict[str, Any]] = field(default_factory=list)
    household_name: str | None = None
    members: list[dict[str, Any]] = field(default_factory=list)
    assets: list[dict[str, Any]] = field(default_factory=list)  # "member": index or None
    preferences: list[tuple[str, str]] = field(default_factory=list)
    refs: list[tuple[str, str]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    opt_in: list[str] = field(default_factory=list)  # loyalty programs they signed up to


def plan_customer(index: int, customer_id: int, world: World) -> Plan:
    """The ``index``-th customer of the demo (index 0 is the dealership's seed story)."""
    if index == 0:
        return _story_customer(customer_id, world)
    rng = random.Random(world.seed * 1_000_003 + index)
    r = rng.random() * world.home_weights[-1]
    home = world.home_codes[bisect_right(world.home_weights, r)]
    if index <= world.birthdays_today:
        home = ("CAFE-LIS", "OPT-LON", "CAFE-NYC", "VW-DENVER", "CAFE-LON")[(index - 1) % 5]
    return _Builder(rng, index, customer_id, world, home).build()


class _Builder:
    def __init__(
        self, rng: random.Random, index: int, customer_id: int, world: World, home: str
    ) -> None:
        self.rng = rng
        self.index = index
        self.cid = customer_id
        self.world = world
        self.home = home
        self.place = world.places[home]
        self.crew = world.crews[home]
        self.events: list[dict[str, Any]] = []
        self.serial = 0
        roll = rng.random()
        self.behaviour: Behaviour = (
            "regular"
            if roll < 0.2
            else "occasional"
            if roll < 0.65
            else "lapser"
            if roll < 0.9
            else "new"
        )
        if index <= world.birthdays_today:
            self.behaviour = "regular"

    # -- profile ---------------------------------------------------------------------

    def build(self) -> Plan:
        rng, world, place = self.rng, self.world, self.place
        snowbird = place.code == "VW-NAPLES" and rng.random() < 0.35
        city = rng.choice(("Chicago", "Detroit", "Toronto", "Boston")) if snowbird else place.city
        pool = world.pools["Naples" if place.city == "Naples" else place.city]
        first, last, gender = pool.person(rng)
        enrolled = self._enrolment_day()
        enrolled_at = self._local_moment(enrolled, 9, 18)
        birthday = self._birthday()
        email = None
        if rng.random() < 0.85:
            handle = f"{_ascii(first)}.{_ascii(last)}{self.index}".lower()
            email = f"{handle}@{rng.choice(EMAIL_DOMAINS)}"
        phone = None
        if rng.random() < 0.8 or place.kind == "dealership":
            digits = rng.randrange(10**place.phone_digits)
            phone = f"{place.phone_prefix}{digits:0{place.phone_digits}d}"
        consents = self._consents(enrolled_at, email, phone)
        granted = {c["channel"] for c in consents if c["granted"]}
        preferred = None
        for channel in (
            ("phone", "sms", "email") if place.kind == "dealership" else ("email", "sms", "phone")
        ):
            if channel in granted and rng.random() < 0.7:
                preferred = channel
                break
        quiet = rng.random() < 0.3
        status = "active"
        roll = rng.random()
        if self.index > world.birthdays_today:
            status = "do_not_contact" if roll < 0.01 else "deceased" if roll < 0.012 else status
        owner = (
            rng.choice(self.crew.reps)
            if self.crew.reps and (place.kind == "dealership" or rng.random() < 0.3)
            else None
        )
        prefix = {"cafe": "FF", "dealership": "VW", "optician": "CS"}[place.kind]
        customer = {
            "card_number": f"{prefix}-{self.index:08d}",
            "first_name": first,
            "last_name": last,
            "email": email,
            "phone": phone,
            "birthday": birthday,
            "language": place.language if city == place.city else "en",
            "preferred_channel": preferred,
            "city": city,
            "status": status,
            "owner_staff_id": owner,
            "home_location_id": world.location_ids[place.code],
            "quiet_start": time(21, 0) if quiet else None,
            "quiet_end": time(8, 0) if quiet else None,
            "created_at": enrolled_at,
            "updated_at": enrolled_at,
        }
        plan = Plan(customer=customer, consents=consents)
        if place.kind == "dealership":
            plan.refs.append(("dms", f"DMS-{self.index:07d}"))
            if rng.random() < 0.65:
                plan.opt_in.append("dealership")
        self._household(plan, gender, last)
        self._likes(plan)
        self._timeline(plan, enrolled, owner, snowbird)
        plan.events = self.events
        return plan

    def _enrolment_day(self) -> date:
        span = HISTORY_DAYS
        if self.behaviour == "new":
            return self.world.start + timedelta(days=span - self.rng.randint(2, 90))
        late = span - 150 if self.behaviour == "lapser" else span - 100
        return self.world.start + timedelta(days=int(self.rng.random() ** 1.6 * late))

    def _birthday(self) -> date | None:
        rng = self.rng
        if self.index <= self.world.birthdays_today:
            today = self.world.today(self.home)
            year = 1988 if (today.month, today.day) == (2, 29) else rng.randint(1950, 2003)
            return date(year, today.month, today.day)
        if self.index == self.world.birthdays_today + 1:
            return date(1988, 2, 29)  # a leap-day birthday, celebrated by the business's rule
        if rng.random() < 0.12:
            return None
        return date(rng.randint(1945, 2005), 1, 1) + timedelta(days=rng.randrange(365))

    def _consents(self, at: datetime, email: str | None, phone: str | None) -> list[dict[str, Any]]:
        rng = self.rng
        how = rng.choice(("signup form", "till", "app", "phone call", "paper form"))
        out = []
        moment = at.astimezone(UTC) + timedelta(minutes=rng.randint(0, 30))
        if email:
            out.append(
                {"channel": "email", "granted": rng.random() < 0.75, "at": moment, "source": how}
            )
        if phone:
            out.append(
                {"channel": "sms", "granted": rng.random() < 0.45, "at": moment, "source": how}
            )
            if self.place.kind != "cafe":
                out.append(
                    {
                        "channel": "phone",
                        "granted": rng.random() < 0.85,
                        "at": moment,
                        "source": how,
                    }
                )
        if out and rng.random() < 0.05:  # changed their mind later
            later = min(moment + timedelta(days=rng.randint(20, 400)), self.world.now)
            first = out[0]
            out[0] = first | {
                "granted": not first["granted"],
                "at": later.astimezone(UTC),
                "source": "unsubscribe link" if first["granted"] else "app",
            }
        return out

    def _household(self, plan: Plan, gender: str, last: str) -> None:
        rng, kind = self.rng, self.place.kind
        chance = {"cafe": 0.2, "dealership": 0.5, "optician": 0.3}[kind]
        if rng.random() >= chance:
            return
        plan.household_name = last
        pool = self.world.pools["Naples" if self.place.city == "Naples" else self.place.city]
        partner_birthday = date(rng.randint(1948, 2002), 1, 1) + timedelta(days=rng.randrange(365))
        plan.members.append(
            {"name": pool.partner(rng, gender), "relation": "spouse", "birthday": partner_birthday}
        )
        if rng.random() < 0.35:
            child = date(rng.randint(2004, 2020), 1, 1) + timedelta(days=rng.randrange(365))
            plan.members.append(
                {
                    "name": pool.partner(rng, "m" if rng.random() < 0.5 else "f"),
                    "relation": "child",
                    "birthday": child,
                }
            )

    def _likes(self, plan: Plan) -> None:
        rng, kind = self.rng, self.place.kind
        if kind == "cafe":
            if self.behaviour == "regular" or rng.random() < 0.25:
                order = cat.USUAL_ORDERS[0] if self.index <= 2 else rng.choice(cat.USUAL_ORDERS)
                plan.preferences.append(("usual order", order))
            if rng.random() < 0.15:
                plan.preferences.append(rng.choice(cat.CAFE_PREFERENCES))
        elif kind == "dealership" and rng.random() < 0.4:
            plan.preferences.append(rng.choice(cat.DEALER_PREFERENCES))
        elif kind == "optician" and rng.random() < 0.4:
            plan.preferences.append(rng.choice(cat.OPTICIAN_PREFERENCES))

    # -- timeline --------------------------------------------------------------------

    def _timeline(self, plan: Plan, enrolled: date, owner: int | None, snowbird: bool) -> None:
        end = self.world.start + timedelta(days=HISTORY_DAYS)
        if self.behaviour == "lapser":
            end = min(
                end - timedelta(days=120), enrolled + timedelta(days=self.rng.randint(60, 360))
            )
        kind = self.place.kind
        if kind == "cafe":
            self._cafe(enrolled, end)
        elif kind == "dealership":
            self._dealership(plan, enrolled, end, owner, snowbird)
        else:
            self._optician(plan, enrolled, end)
        self._voice(enrolled, end)
        if self.index <= self.world.birthdays_today and kind == "optician":
            self._visit_earlier_today()

    def _cafe(self, enrolled: date, end: date) -> None:
        rng = self.rng
        weekly = {"regular": 0.45, "occasional": 0.08, "lapser": 0.35, "new": 0.5}[self.behaviour]
        weeks = max((end - enrolled).days, 1) / 7
        count = max(1, int(weekly * weeks * rng.uniform(0.6, 1.4)))
        cafes = [p.code for p in cat.PLACES if p.kind == "cafe"]
        for n in range(count):
            day = self._day("cafe", enrolled, end)
            code = self.home if rng.random() < 0.95 else rng.choice(cafes)
            at = self._local_moment(day, 7, 18, code=code, peak=8.5)
            lines: list[dict[str, Any]] = []
            for _ in range(1 if rng.random() < 0.55 else rng.randint(2, 3)):
                item = rng.choices(cat.CAFE_MENU, cum_weights=CAFE_CUMULATIVE)[0]
                lines.append(
                    {
                        "sku": item.sku,
                        "category": item.category,
                        "description": item.description,
                        "unit_price": item.price,
                        "quantity": 1,
                    }
                )
            if n == 0 or rng.random() < 0.04:
                first_line = lines[0]
                first_line["discount"] = first_line["unit_price"] // 10
                first_line["coupon_code"] = "WELCOME10" if n == 0 else "AUTUMN10"
            purchase = self._event(
                "purchase",
                at,
                "demo-pos",
                code=code,
                staff=rng.choice(self.world.crews[code].counter),
                lines=lines,
                channel="app" if rng.random() < 0.15 else "in_store",
                currency=self.world.places[code].currency,
            )
            retail = [line for line in lines if line["category"] == "retail"]
            if retail and rng.random() < 0.15:
                back = at + timedelta(days=rng.randint(1, 6))
                self._event(
                    "return",
                    back,
                    "demo-pos",
                    code=code,
                    purchase_external_id=purchase["external_id"],
                    lines=[{"sku": retail[0]["sku"], "quantity": 1}],
                    reason="changed their mind",
                )
        if self.behaviour == "regular" and rng.random() < 0.45:
            for _ in range(rng.randint(1, 2)):
                text, tags = rng.choice(cat.CAFE_NOTES)
                at = self._local_moment(self._day("cafe", enrolled, end), 8, 17)
                self._event(
                    "note",
                    at,
                    "demo-console",
                    staff=rng.choice(self.crew.counter),
                    text=text,
                    tags=list(tags),
                )

    def _dealership(
        self, plan: Plan, enrolled: date, end: date, owner: int | None, snowbird: bool
    ) -> None:
        rng, world = self.rng, self.world
        car = rng.choice(cat.CARS)
        bought_in_history = rng.random() < 0.45
        acquired = (
            self._day("dealership", world.start, enrolled + timedelta(days=1))
            if bought_in_history
            else date(rng.randint(car.year, max(car.year, world.start.year - 1)), 1, 1)
            + timedelta(days=rng.randrange(365))
        )
        acquired = min(acquired, end)
        plan.assets.append(self._car(car, acquired, None))
        if bought_in_history:
            at = self._local_moment(acquired, 10, 18)
            self._event(
                "purchase",
                at,
                "demo-dms",
                staff=owner,
                lines=[
                    {
                        "sku": car.model_code,
                        "category": "vehicle",
                        "description": f"{car.year} {car.make} {car.model}",
                        "unit_price": car.price,
                        "discount": car.price // 20 if rng.random() < 0.5 else 0,
                    }
                ],
                channel="online" if rng.random() < 0.3 else "in_store",
                currency="USD",
            )
        if plan.members and rng.random() < 0.6:
            second = rng.choice(cat.CARS)
            got = date(rng.randint(second.year, max(second.year, world.start.year)), 1, 1)
            plan.assets.append(self._car(second, got + timedelta(days=rng.randrange(300)), 0))
        visits = {"regular": 4, "occasional": 2, "lapser": 1, "new": 1}[self.behaviour]
        years = max((end - enrolled).days, 30) / 365
        for _ in range(max(1, int(visits * years * rng.uniform(0.5, 1.3)))):
            day = self._day("dealership", enrolled, end)
            if snowbird and day.month in (6, 7, 8, 9, 10):
                continue  # up north for the summer
            at = self._local_moment(day, 8, 12)
            self._event("visit", at, "demo-dms", kind="service")
            items = rng.sample(cat.SERVICE_ITEMS, rng.randint(1, 2))
            self._event(
                "purchase",
                at + timedelta(hours=rng.randint(2, 6)),
                "demo-dms",
                staff=rng.choice(self.crew.counter),
                currency="USD",
                lines=[
                    {
                        "sku": i.sku,
                        "category": i.category,
                        "description": i.description,
                        "unit_price": i.price,
                    }
                    for i in items
                ],
            )
        if owner is not None:
            for _ in range(rng.randint(0, 3 if self.behaviour == "regular" else 1)):
                at = self._local_moment(self._day("dealership", enrolled, end), 10, 17)
                mood = rng.choices(("happy", "neutral", "unhappy"), (6, 3, 1))[0]
                reached = rng.random() < 0.75
                self._event(
                    "call",
                    at,
                    "demo-crm",
                    staff=owner,
                    outcome="reached" if reached else "voicemail",
                    emotion=mood if reached else None,
                    notes=rng.choice(cat.CALL_NOTES[mood]) if reached else "",
                    duration_s=rng.randint(90, 900) if reached else 30,
                )
        if rng.random() < 0.2:
            text, tags = rng.choice(cat.DEALER_NOTES)
            at = self._local_moment(self._day("dealership", enrolled, end), 9, 17)
            self._event(
                "note",
                at,
                "demo-console",
                staff=owner or self.crew.manager,
                text=text,
                tags=list(tags),
            )

    def _car(self, car: cat.CarModel, acquired: date, member: int | None) -> dict[str, Any]:
        vin = "".join(self.rng.choices("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", k=17))
        return {
            "kind": "car",
            "label": f"{car.year} {car.make} {car.model}",
            "model_code": car.model_code,
            "acquired_on": acquired,
            "service_due_on": _next_service(acquired, self.world.now.date()),
            "details": {"make": car.make, "model": car.model, "year": car.year, "vin": vin},
            "member": member,
        }

    def _optician(self, plan: Plan, enrolled: date, end: date) -> None:
        rng = self.rng
        exams = {"regular": 3, "occasional": 1, "lapser": 1, "new": 1}[self.behaviour]
        last_exam = enrolled
        for n in range(exams):
            day = self._day("optician", enrolled, end) if n else enrolled
            last_exam = max(last_exam, day)
            at = self._local_moment(day, 10, 17)
            self._event("visit", at, "demo-till", kind="appointment")
            chosen = [
                cat.OPTICIAN_ITEMS[0],
                rng.choice(cat.OPTICIAN_ITEMS[1:3]),
                rng.choice(cat.OPTICIAN_ITEMS[3:5]),
            ]
            self._event(
                "purchase",
                at + timedelta(minutes=50),
                "demo-till",
                currency="GBP",
                staff=rng.choice(self.crew.counter + self.crew.reps),
                lines=[
                    {
                        "sku": i.sku,
                        "category": i.category,
                        "description": i.description,
                        "unit_price": i.price,
                    }
                    for i in chosen
                ],
            )
        plan.assets.append(
            {
                "kind": "glasses",
                "label": "Varifocals in titanium frames"
                if rng.random() < 0.5
                else "Single-vision glasses, acetate frames",
                "model_code": "",
                "acquired_on": last_exam,
                "service_due_on": last_exam + timedelta(days=730),
                "details": {"prescription_date": last_exam.isoformat()},
                "member": None,
            }
        )
        if rng.random() < 0.25:
            text, tags = rng.choice(cat.OPTICIAN_NOTES)
            self._event(
                "note",
                self._local_moment(last_exam, 11, 17),
                "demo-console",
                staff=self.crew.manager,
                text=text,
                tags=list(tags),
            )

    def _voice(self, enrolled: date, end: date) -> None:
        """Survey answers and complaints: what customers said back."""
        rng, kind = self.rng, self.place.kind
        if rng.random() < {"cafe": 0.12, "dealership": 0.35, "optician": 0.3}[kind]:
            promoter = {"regular": 0.75, "occasional": 0.5, "lapser": 0.25, "new": 0.55}
            roll = rng.random()
            if roll < promoter[self.behaviour]:
                score, mood = rng.choice((9, 10, 10)), "promoter"
            elif roll < promoter[self.behaviour] + 0.2:
                score, mood = rng.choice((7, 8)), "passive"
            else:
                score, mood = rng.randint(0, 6), "detractor"
            at = self._local_moment(self._day(kind, enrolled, end), 12, 21)
            self._event(
                "survey_answer",
                at,
                "demo-survey",
                kind="nps",
                score=score,
                comment=rng.choice(cat.NPS_COMMENTS[mood]),
                about_staff_id=rng.choice(self.crew.counter),
                touchpoint={"cafe": "counter", "dealership": "service", "optician": "appointment"}[
                    kind
                ],
            )
        if rng.random() < {"cafe": 0.025, "dealership": 0.06, "optician": 0.05}[kind]:
            day = self._day(kind, enrolled, end)
            at = self._local_moment(day, 9, 18)
            ticket = f"T-{self.index:08d}"
            subject = rng.choice(cat.COMPLAINTS[kind])
            self._event(
                "ticket",
                at,
                "demo-helpdesk",
                ticket_id=ticket,
                status="opened",
                category="complaint",
                subject=subject,
                staff=self.crew.manager,
            )
            recent = (self.world.now.date() - day).days < 45
            if not recent or rng.random() < 0.3:
                closed = at + timedelta(days=rng.randint(1, 12))
                self._event(
                    "ticket",
                    closed,
                    "demo-helpdesk",
                    ticket_id=ticket,
                    status="closed",
                    category="complaint",
                    subject=subject,
                    staff=self.crew.manager,
                )

    def _visit_earlier_today(self) -> None:
        """Seed 000: she was in the shop this morning, on her birthday."""
        local_now = self.world.now.astimezone(self.world.zones[self.home])
        seen = local_now.replace(hour=9, minute=40, second=0, microsecond=0)
        if seen < local_now:
            self._event("visit", seen, "demo-till", kind="appointment")

    # -- helpers ---------------------------------------------------------------------

    def _day(self, kind: str, lo: date, hi: date) -> date:
        """A day in [lo, hi] weighted by the business's season and week."""
        start = self.world.start
        a = max((lo - start).days, 0)
        b = min(max((hi - start).days, a), HISTORY_DAYS) + 1
        cum = self.world.calendars[kind]
        low, high = cum[a], cum[b]
        if high <= low:
            return start + timedelta(days=a)
        index = bisect_right(cum, low + self.rng.random() * (high - low)) - 1
        return start + timedelta(days=min(max(index, a), b - 1))

    def _local_moment(
        self,
        day: date,
        opens: int,
        closes: int,
        *,
        code: str | None = None,
        peak: float | None = None,
    ) -> datetime:
        zone = self.world.zones[code or self.home]
        hours = self.rng.triangular(opens, closes, peak if peak is not None else opens + 2)
        minutes = int(hours * 60)
        moment = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=zone)
        if moment < self.world.now:
            return moment
        return self.world.now - timedelta(minutes=5 + int(self.rng.random() * 600))

    def _event(
        self,
        event_type: str,
        at: datetime,
        source: str,
        *,
        code: str | None = None,
        staff: int | None = None,
        **payload: Any,
    ) -> dict[str, Any]:
        self.serial += 1
        event = {
            "type": event_type,
            "source": source,
            "external_id": f"{self.index}-{self.serial}",
            "occurred_at": at,
            "customer_id": self.cid,
            "location": code or self.home,
            **payload,
        }
        if staff is not None:
            event["staff_id"] = staff
        self.events.append(event)
        return event


def _next_service(acquired: date, today: date) -> date:
    """Cars are serviced yearly on the anniversary of purchase."""
    due = acquired
    while due <= today:
        due = date(due.year + 1, due.month, min(due.day, 28))
    return due


def _ascii(name: str) -> str:
    """An e-mail-safe version of a name (José → jose, O'Brien → obrien)."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain if ch.isalnum()) or "customer"


def _story_customer(customer_id: int, world: World) -> Plan:
    """Seed 002: the rep who rings every birthday, knows the wife's car and the season.

    Mark bought his Tiguan online from the Naples dealership and met Dave at the key
    handover; he and Linda spend May to December in Chicago and come back for the season.
    Linda's Beetle convertible is under an open airbag recall that worries her. It is Mark's
    birthday today.
    """
    today = world.today("VW-NAPLES")
    year = 1988 if (today.month, today.day) == (2, 29) else 1961
    birthday = date(year, today.month, today.day)
    zone = world.zones["VW-NAPLES"]
    now = world.now
    enrolled = datetime.combine(world.start + timedelta(days=40), time(15, 20), tzinfo=zone)
    dave = world.story_rep
    crew = world.crews["VW-NAPLES"]
    plan = Plan(
        customer={
            "card_number": "VW-00000000",
            "first_name": "Mark",
            "last_name": "Hollister",
            "email": "mark.hollister@example.com",
            "phone": "+13125550142",
            "birthday": birthday,
            "language": "en",
            "preferred_channel": "phone",
            "city": "Chicago",
            "status": "active",
            "owner_staff_id": dave,
            "home_location_id": world.location_ids["VW-NAPLES"],
            "quiet_start": time(21, 30),
            "quiet_end": time(8, 0),
            "created_at": enrolled,
            "updated_at": enrolled,
        },
        household_name="Hollister",
        members=[{"name": "Linda Hollister", "relation": "spouse", "birthday": date(1963, 9, 14)}],
        preferences=[
            ("season in Florida", "January to April in Naples; Chicago otherwise"),
            ("contact", "call his mobile; Linda prefers a call about her car"),
        ],
        refs=[("dms", "DMS-0000000")],
        opt_in=["dealership"],
    )
    plan.consents = [
        {"channel": ch, "granted": True, "at": enrolled.astimezone(UTC), "source": "online order"}
        for ch in ("email", "phone", "sms")
    ]
    tiguan = next(c for c in cat.CARS if c.model_code == "VW-TIGUAN-2023")
    beetle = next(c for c in cat.CARS if c.model_code == "VW-BEETLE-CONV-2019")
    plan.assets = [
        {
            "kind": "car",
            "label": "2023 Volkswagen Tiguan",
            "model_code": tiguan.model_code,
            "acquired_on": enrolled.date(),
            "service_due_on": _next_service(enrolled.date(), now.date()),
            "details": {
                "make": "Volkswagen",
                "model": "Tiguan",
                "year": 2023,
                "vin": "3VV3B7AX5PM012345",
            },
            "member": None,
        },
        {
            "kind": "car",
            "label": "2019 Volkswagen Beetle Convertible",
            "model_code": beetle.model_code,
            "acquired_on": date(2019, 3, 2),
            "service_due_on": _next_service(date(2019, 3, 2), now.date()),
            "details": {
                "make": "Volkswagen",
                "model": "Beetle Convertible",
                "year": 2019,
                "vin": "3VW5DAAT8KM501234",
                "colour": "Tornado Red",
            },
            "member": 0,
        },
    ]

    def event(n: int, event_type: str, at: datetime, **payload: Any) -> dict[str, Any]:
        return {
            "type": event_type,
            "source": "demo-story",
            "external_id": f"hollister-{n}",
            "occurred_at": at,
            "customer_id": customer_id,
            "location": "VW-NAPLES",
            **payload,
        }

    last_birthday = datetime.combine(
        date(today.year - 1, today.month, min(today.day, 28)), time(10, 15), tzinfo=zone
    )
    plan.events = [
        event(
            1,
            "purchase",
            enrolled,
            channel="online",
            currency="USD",
            staff_id=dave,
            lines=[
                {
                    "sku": tiguan.model_code,
                    "category": "vehicle",
                    "description": "2023 Volkswagen Tiguan SE",
                    "unit_price": tiguan.price,
                    "discount": 120_000,
                }
            ],
        ),
        event(2, "visit", enrolled + timedelta(days=3), kind="appointment", staff_id=dave),
        event(
            3,
            "note",
            enrolled + timedelta(days=3, hours=1),
            staff_id=dave,
            text="Bought online, first met at the key handover. Snowbirds: Chicago May to "
            "December, back in Naples for the season in January.",
            tags=["season", "family"],
        ),
        event(
            4,
            "call",
            last_birthday,
            staff_id=dave,
            outcome="reached",
            emotion="happy",
            duration_s=540,
            notes="Birthday call. Weather in Chicago brutal; back in Naples mid-January. "
            "Linda worried about the Beetle airbag recall; promised to check her VIN.",
        ),
        event(
            5,
            "survey_answer",
            last_birthday + timedelta(days=2),
            kind="nps",
            score=10,
            comment="Dave calls every year on my birthday. That is why we stay.",
            about_staff_id=dave,
            touchpoint="call",
        ),
    ]
    service_day = date(today.year, 2, 12) if today.month > 3 else date(today.year - 1, 2, 12)
    visit = datetime.combine(service_day, time(9, 0), tzinfo=zone)
    plan.events += [
        event(6, "visit", visit, kind="service"),
        event(
            7,
            "purchase",
            visit + timedelta(hours=3),
            currency="USD",
            staff_id=crew.counter[0],
            lines=[
                {
                    "sku": "SVC-ANNUAL",
                    "category": "service",
                    "description": "Annual inspection",
                    "unit_price": 34_900,
                },
                {
                    "sku": "SVC-DETAIL",
                    "category": "service",
                    "description": "Full detail",
                    "unit_price": 18_900,
                },
            ],
        ),
    ]
    plan.events = [e for e in plan.events if e["occurred_at"] < now]
    return plan
