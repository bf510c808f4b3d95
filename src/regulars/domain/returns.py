"""Returns: what a customer may bring back, and what it is worth.

A return names the purchase and the lines; the value given back is the net the customer
paid for those units (pro rata of each line's net, so a discount is returned, not the list
price). Rounding is done once per line so that returning every unit, in any number of
returns, gives back exactly the net paid.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from regulars.domain.errors import FieldProblem
from regulars.domain.events import Purchase, Return


@dataclass(frozen=True)
class ReturnedLine:
    sku: str
    category: str
    quantity: int
    net: int  # minor units given back for these units


@dataclass(frozen=True)
class ReturnSettlement:
    lines: tuple[ReturnedLine, ...]
    currency: str = "EUR"  # the purchase's: the refund is in the money it was paid in

    @property
    def refund(self) -> int:
        return sum(line.net for line in self.lines)


def settle_return(
    purchase: Purchase, already_returned: Mapping[str, int], ret: Return
) -> ReturnSettlement | list[FieldProblem]:
    """Check a return against its purchase and earlier returns; value each returned line.

    The net of ``k`` units of a line of ``q`` units is ``floor(net × (r + k) / q) −
    floor(net × r / q)`` where ``r`` were returned before: the pieces always add up to the
    line's net, whatever the order and size of the returns.
    """
    by_sku: dict[str, tuple[int, int, str]] = {}
    for bought_line in purchase.lines:
        quantity, net, category = by_sku.get(bought_line.sku, (0, 0, bought_line.category))
        by_sku[bought_line.sku] = (
            quantity + bought_line.quantity,
            net + bought_line.net,
            category,
        )
    problems: list[FieldProblem] = []
    settled: list[ReturnedLine] = []
    returning: dict[str, int] = {}
    for index, line in enumerate(ret.lines):
        if line.sku not in by_sku:
            problems.append(
                FieldProblem(f"lines.{index}.sku", f"{line.sku!r} is not on the purchase")
            )
            continue
        bought, net, category = by_sku[line.sku]
        before = already_returned.get(line.sku, 0) + returning.get(line.sku, 0)
        if before + line.quantity > bought:
            left = bought - before
            problems.append(
                FieldProblem(
                    f"lines.{index}.quantity",
                    f"only {left} of {line.sku!r} left to return "
                    f"({bought} bought, {before} returned)",
                )
            )
            continue
        value = net * (before + line.quantity) // bought - net * before // bought
        returning[line.sku] = returning.get(line.sku, 0) + line.quantity
        settled.append(ReturnedLine(line.sku, category, line.quantity, value))
    if problems:
        return problems
    return ReturnSettlement(tuple(settled), purchase.currency)
