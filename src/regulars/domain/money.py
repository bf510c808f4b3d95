"""Money as people read it, from the integer minor units it is kept in.

Every amount in ``regulars`` is an integer number of minor units (cents, pence). Formatting
through a float (``value / 100``) would be exact for everyday sums but not for every sum a
business can reach, and the rule is simpler without exceptions: integers all the way.
"""

from __future__ import annotations


def amount_text(minor: int) -> str:
    """1234567 → "12,345.67"; negative amounts keep their sign."""
    sign = "-" if minor < 0 else ""
    whole, cents = divmod(abs(int(minor)), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def money_text(minor: int, currency: str) -> str:
    """1234 and "EUR" → "12.34 EUR", as the till prints it."""
    return f"{amount_text(minor)} {currency}"


__all__ = ["amount_text", "money_text"]
