"""What the demo business sells, where, and the words its staff and customers use.

Plain data, kept apart from the generator so that a reader can see the business at a glance:
a café chain ("Café Regulars") in four cities across four time zones, the Autohaus group's
Volkswagen dealership in Naples, Florida with a second one in Denver, and a small optician in
London. The brands are the ones the demo loyalty programs (``demo/programs/*.yaml``) apply to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Business = Literal["cafe", "dealership", "optician"]


@dataclass(frozen=True)
class Place:
    code: str
    name: str
    brand: str
    kind: Business
    timezone: str
    currency: str
    city: str
    language: str
    phone_prefix: str  # E.164 country code and a plausible local prefix
    phone_digits: int  # digits that follow the prefix


PLACES: tuple[Place, ...] = (
    Place(
        "CAFE-LIS",
        "Café Regulars Chiado",
        "Café Regulars",
        "cafe",
        "Europe/Lisbon",
        "EUR",
        "Lisbon",
        "pt",
        "+3519",
        8,
    ),
    Place(
        "CAFE-LON",
        "Café Regulars Shoreditch",
        "Café Regulars",
        "cafe",
        "Europe/London",
        "GBP",
        "London",
        "en",
        "+447",
        9,
    ),
    Place(
        "CAFE-NYC",
        "Café Regulars Brooklyn",
        "Café Regulars",
        "cafe",
        "America/New_York",
        "USD",
        "New York",
        "en",
        "+1718",
        7,
    ),
    Place(
        "CAFE-DEN",
        "Café Regulars LoDo",
        "Café Regulars",
        "cafe",
        "America/Denver",
        "USD",
        "Denver",
        "en",
        "+1720",
        7,
    ),
    Place(
        "VW-NAPLES",
        "Volkswagen of Naples",
        "Autohaus",
        "dealership",
        "America/New_York",
        "USD",
        "Naples",
        "en",
        "+1239",
        7,
    ),
    Place(
        "VW-DENVER",
        "Volkswagen Front Range",
        "Autohaus",
        "dealership",
        "America/Denver",
        "USD",
        "Denver",
        "en",
        "+1303",
        7,
    ),
    Place(
        "OPT-LON",
        "Clear Sight Opticians Islington",
        "Clear Sight",
        "optician",
        "Europe/London",
        "GBP",
        "London",
        "en",
        "+447",
        9,
    ),
)

#: Share of demo customers whose home is each location (sums to 1).
CUSTOMER_SHARE: dict[str, float] = {
    "CAFE-LIS": 0.22,
    "CAFE-LON": 0.20,
    "CAFE-NYC": 0.18,
    "CAFE-DEN": 0.14,
    "VW-NAPLES": 0.12,
    "VW-DENVER": 0.08,
    "OPT-LON": 0.06,
}


@dataclass(frozen=True)
class Item:
    sku: str
    category: str
    description: str
    price: int  # minor units in the location's currency


CAFE_MENU: tuple[Item, ...] = (
    Item("LONDON-FOG", "drinks", "London Fog latte", 450),
    Item("FLAT-WHITE", "drinks", "Flat white", 380),
    Item("CAPPUCCINO", "drinks", "Cappuccino", 360),
    Item("ESPRESSO", "drinks", "Espresso", 180),
    Item("OAT-LATTE", "drinks", "Oat latte", 420),
    Item("CHAI", "drinks", "Chai latte", 430),
    Item("COLD-BREW", "drinks", "Cold brew", 400),
    Item("MATCHA", "drinks", "Matcha latte", 460),
    Item("PASTEL-NATA", "food", "Pastel de nata", 190),
    Item("CROISSANT", "food", "Butter croissant", 280),
    Item("BANANA-BREAD", "food", "Banana bread", 320),
    Item("AVO-TOAST", "food", "Avocado toast", 850),
    Item("GRANOLA", "food", "Granola bowl", 690),
    Item("BEANS-250", "retail", "House beans, 250 g", 1400),
    Item("KEEPCUP", "retail", "Reusable cup", 1800),
)

#: Weight of each menu line in a basket (drinks dominate, retail is rare).
CAFE_WEIGHTS: tuple[int, ...] = (9, 12, 9, 6, 10, 5, 5, 4, 7, 8, 5, 3, 3, 1, 1)

SERVICE_ITEMS: tuple[Item, ...] = (
    Item("SVC-OIL", "service", "Oil and filter change", 12_900),
    Item("SVC-ANNUAL", "service", "Annual inspection", 34_900),
    Item("SVC-TYRES", "service", "Four tyres fitted", 78_000),
    Item("SVC-BRAKES", "service", "Brake pads and discs", 52_500),
    Item("SVC-DETAIL", "service", "Full detail", 18_900),
    Item("ACC-MATS", "accessories", "All-weather floor mats", 16_500),
)

OPTICIAN_ITEMS: tuple[Item, ...] = (
    Item("EYE-TEST", "eye_test", "Eye examination", 2_500),
    Item("FRAMES-CLASSIC", "frames", "Classic acetate frames", 14_900),
    Item("FRAMES-TITAN", "frames", "Titanium frames", 24_900),
    Item("LENS-VARIFOCAL", "lenses", "Varifocal lenses", 29_000),
    Item("LENS-SINGLE", "lenses", "Single-vision lenses", 9_900),
    Item("CONTACTS-90", "contact_lenses", "Daily contact lenses, 90 days", 8_400),
    Item("CLEAN-KIT", "accessories", "Lens cleaning kit", 900),
)


@dataclass(frozen=True)
class CarModel:
    make: str
    model: str
    model_code: str
    year: int
    price: int  # minor units (USD cents)


CARS: tuple[CarModel, ...] = (
    CarModel("Volkswagen", "Golf GTI", "VW-GOLF-GTI-2022", 2022, 3_249_000),
    CarModel("Volkswagen", "Tiguan", "VW-TIGUAN-2023", 2023, 3_199_000),
    CarModel("Volkswagen", "Atlas", "VW-ATLAS-2021", 2021, 4_199_000),
    CarModel("Volkswagen", "ID.4", "VW-ID4-2023", 2023, 4_399_000),
    CarModel("Volkswagen", "Jetta", "VW-JETTA-2022", 2022, 2_299_000),
    CarModel("Volkswagen", "Beetle Convertible", "VW-BEETLE-CONV-2019", 2019, 2_799_000),
    CarModel("Volkswagen", "Taos", "VW-TAOS-2024", 2024, 2_699_000),
    CarModel("Volkswagen", "Passat", "VW-PASSAT-2020", 2020, 2_649_000),
)

#: Open recalls: (model code, title, severity). Owners of these cars deserve a person's call.
RECALLS: tuple[tuple[str, str, str], ...] = (
    ("VW-BEETLE-CONV-2019", "Passenger airbag inflator inspection", "safety"),
    ("VW-ATLAS-2021", "Rear-view camera may not display when reversing", "safety"),
    ("VW-ID4-2023", "Software update for the 12 V battery management", "info"),
)

USUAL_ORDERS: tuple[str, ...] = (
    "London Fog latte, extra hot, no foam, coconut milk",
    "Flat white, oat milk, one sugar",
    "Double espresso and a pastel de nata",
    "Large cappuccino, extra shot, to take away",
    "Iced matcha latte, almond milk, light ice",
    "Chai latte with oat milk, not too sweet",
    "Cold brew with a splash of whole milk",
    "Decaf oat latte, extra hot",
    "Americano, black, and a butter croissant",
    "Small flat white, half-caf, skimmed milk",
)

CAFE_PREFERENCES: tuple[tuple[str, str], ...] = (
    ("seat", "the window table by the plants"),
    ("name on the cup", "spelled 'Kat', not 'Cat'"),
    ("allergy", "tree nuts: no almond milk, no banana bread"),
    ("music", "asks to turn it down in the morning"),
    ("dog", "comes with Biscuit, a golden retriever: water bowl please"),
)

DEALER_PREFERENCES: tuple[tuple[str, str], ...] = (
    ("service slot", "Saturday mornings, waits in the lounge"),
    ("contact", "text first, calls back after 6 pm"),
    ("loan car", "needs an automatic with a child seat"),
    ("paperwork", "e-mail the invoice, no printed copies"),
)

OPTICIAN_PREFERENCES: tuple[tuple[str, str], ...] = (
    ("frames", "prefers light titanium, dislikes heavy acetate"),
    ("appointments", "late afternoons after school pick-up"),
)

CAFE_NOTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Training for the marathon in October; asks about our protein snacks.", ("running",)),
    ("New puppy called Biscuit; loves showing photos.", ("family", "pets")),
    ("Daughter just started university; quieter mornings now.", ("family",)),
    ("Works nights at the hospital; comes in after shift around 8.", ("work",)),
    ("Learning Portuguese; likes ordering in Portuguese, answer slowly.", ("language",)),
    ("Just moved into the flat above the bakery.", ("neighbour",)),
    ("Writing a novel; stays two hours on Tuesdays, never rush the table.", ("habit",)),
    ("Got engaged last weekend!", ("milestone",)),
)

DEALER_NOTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Bought online, first met at key handover; prefers to keep things quick.", ("sales",)),
    ("Son learning to drive this summer; asked about a second car.", ("family", "lead")),
    ("Retired teacher; volunteers at the botanical garden on Wednesdays.", ("personal",)),
    ("Tows a small boat; ask about the hitch at every service.", ("vehicle",)),
)

OPTICIAN_NOTES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Reads a lot on a tablet; discussed blue-light coating.", ("vision",)),
    ("Nervous about eye drops; explain each step.", ("care",)),
)

CALL_NOTES: dict[str, tuple[str, ...]] = {
    "happy": (
        "Happy with the last service; asked after the family.",
        "Thanked us for the loan car; will book the annual inspection.",
        "Loves the car; mentioned a friend looking for a Tiguan.",
    ),
    "neutral": (
        "Left details of the service offer; will think about it.",
        "Confirmed the appointment, nothing else to discuss.",
    ),
    "unhappy": (
        "Waited over an hour past the promised time; wants a call from the manager.",
        "Invoice higher than the quote; explained the brake discs, not convinced.",
    ),
}

NPS_COMMENTS: dict[str, tuple[str, ...]] = {
    "promoter": (
        "They remember my order before I say it.",
        "Friendly staff, always a smile.",
        "Quick, honest service and the car was washed.",
        "Best coffee on my way to work.",
    ),
    "passive": (
        "Good, but the queue is long at 8.",
        "Fine service, a bit pricey.",
        "",
    ),
    "detractor": (
        "Milk was cold and nobody noticed.",
        "Service took twice as long as promised.",
        "Was charged twice for the same order.",
        "Staff were on their phones.",
    ),
}

COMPLAINTS: dict[Business, tuple[str, ...]] = {
    "cafe": (
        "Charged twice on the card",
        "Wrong milk in the drink (allergy)",
        "Loyalty stamp missing from last visit",
    ),
    "dealership": (
        "Scratch on the door after the service",
        "Warranty repair refused",
        "Loan car was not ready",
    ),
    "optician": (
        "Varifocals still blurry after adjustment",
        "Frames delayed by three weeks",
    ),
}

#: Relative busyness by month (January first): cafés peak in the cold months and dip in
#: August; the dealership sells in spring and in the year-end push.
CAFE_SEASON = (1.25, 1.2, 1.1, 1.0, 0.95, 0.85, 0.75, 0.6, 0.95, 1.05, 1.15, 1.3)
DEALER_SEASON = (1.1, 1.2, 1.4, 1.3, 1.1, 0.9, 0.8, 0.8, 0.9, 1.0, 1.1, 1.4)
OPTICIAN_SEASON = (1.0, 1.0, 1.1, 1.0, 1.0, 0.9, 0.8, 1.2, 1.3, 1.0, 0.9, 0.8)
#: Relative busyness Monday..Sunday.
CAFE_WEEK = (1.1, 1.1, 1.05, 1.1, 1.15, 0.9, 0.6)
DEALER_WEEK = (1.0, 1.0, 1.0, 1.0, 1.1, 1.4, 0.0)
OPTICIAN_WEEK = (1.0, 1.0, 1.0, 1.1, 1.1, 1.2, 0.0)

DEMO_PASSWORD = "regulars-demo"  # noqa: S105 - the published demo login, printed by `regulars demo`
