"""The simulator's HTML report: one self-contained file (inline CSS and SVG, no scripts).

It is meant to be mailed to whoever decides on the program, so it needs nothing but a
browser: findings first, then the figures side by side, then the charts.
"""

from __future__ import annotations

from html import escape
from typing import Any

from jinja2 import Environment, select_autoescape
from markupsafe import Markup

from regulars.domain.money import money_text
from regulars.insight.simulator import ProgramOutcome, Simulation

PALETTE = ("#2b6cb0", "#c05621", "#2f855a", "#6b46c1", "#b7791f", "#c53030")


def bar_chart(
    title: str, series: dict[str, dict[str, int]], *, width: int = 640, unit: str = ""
) -> Markup:
    """Grouped horizontal bars: one group per label, one bar per series (inline SVG)."""
    labels: list[str] = []
    for values in series.values():
        for label in values:
            if label not in labels:
                labels.append(label)
    if not labels:
        return Markup("")
    peak = max((v for values in series.values() for v in values.values()), default=0) or 1
    bar_h, gap, left = 14, 10, 190
    group_h = bar_h * len(series) + gap
    height = 40 + group_h * len(labels) + 20 * len(series)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="12">',
        f'<text x="0" y="16" font-weight="bold">{escape(title)}</text>',
    ]
    y = 30
    span = width - left - 90
    for label in labels:
        parts.append(f'<text x="0" y="{y + bar_h}">{escape(label[:28])}</text>')
        for index, values in enumerate(series.values()):
            value = values.get(label, 0)
            w = max(0, int(span * max(value, 0) / peak))
            colour = PALETTE[index % len(PALETTE)]
            parts.append(
                f'<rect x="{left}" y="{y}" width="{w}" height="{bar_h - 2}" fill="{colour}"/>'
                f'<text x="{left + w + 4}" y="{y + bar_h - 3}">{value:,}{escape(unit)}</text>'
            )
            y += bar_h
        y += gap
    for index, name in enumerate(series):
        colour = PALETTE[index % len(PALETTE)]
        parts.append(
            f'<rect x="0" y="{y + 4}" width="10" height="10" fill="{colour}"/>'
            f'<text x="16" y="{y + 13}">{escape(name)}</text>'
        )
        y += 20
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text piece above is escaped


def line_chart(title: str, series: dict[str, dict[str, int]], *, width: int = 640) -> Markup:
    """Points issued per month, one line per program (inline SVG)."""
    months = sorted({m for values in series.values() for m in values})
    if len(months) < 2:
        return Markup("")
    peak = max((v for values in series.values() for v in values.values()), default=0) or 1
    height, left, top, bottom = 220, 50, 30, 40
    span_x = width - left - 20
    span_y = height - top - bottom
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(title)}" font-family="sans-serif" font-size="11">',
        f'<text x="0" y="16" font-weight="bold" font-size="12">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + span_y}" x2="{left + span_x}" y2="{top + span_y}" '
        'stroke="#999"/>',
        f'<text x="0" y="{top + 10}">{peak:,}</text>',
    ]
    for index, (name, values) in enumerate(series.items()):
        colour = PALETTE[index % len(PALETTE)]
        points = " ".join(
            f"{left + span_x * i // (len(months) - 1)},"
            f"{top + span_y - span_y * values.get(month, 0) // peak}"
            for i, month in enumerate(months)
        )
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{points}"/>'
            f'<text x="{left + 10 + 160 * index}" y="{height - 5}" fill="{colour}">'
            f"{escape(name)}</text>"
        )
    for i, month in enumerate(months):
        if i % max(1, len(months) // 6) == 0:
            x = left + span_x * i // (len(months) - 1)
            parts.append(f'<text x="{x - 18}" y="{top + span_y + 14}">{escape(month)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text piece above is escaped


TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Program simulation: {{ p.name }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:980px;margin:2em auto;padding:0 1em;color:#1a202c}
table{border-collapse:collapse;margin:1em 0}td,th{padding:4px 10px;border-bottom:1px solid #ddd;
text-align:right}th:first-child,td:first-child{text-align:left}.finding{background:#fffbea;
padding:.6em 1em;border-left:4px solid #b7791f;margin:.4em 0}small{color:#555}
</style></head><body>
<h1>{{ p.name }}{% if b %} vs {{ b.name }}{% endif %}</h1>
<p>Recorded history from {{ sim.start }} to {{ sim.end }}: {{ "{:,}".format(sim.events) }}
purchases and returns replayed in {{ "%.1f"|format(sim.seconds) }} s.</p>
<h2>What this tells you</h2>
{% for f in sim.findings %}<div class="finding">{{ f }}</div>{% endfor %}
<h2>Side by side</h2>
<table><tr><th></th>{% if b %}<th>baseline: {{ b.name }}</th>{% endif %}
<th>{% if b %}proposed: {% endif %}{{ p.name }}</th></tr>
{% for label, key, money in rows %}<tr><td>{{ label }}</td>
{% if b %}<td>{{ fmt(b, key, money) }}</td>{% endif %}<td>{{ fmt(p, key, money) }}</td></tr>
{% endfor %}</table>
{{ charts.rules }}
{{ charts.categories }}
{{ charts.tiers }}
{{ charts.monthly }}
<h2>Cost per member by how often they buy</h2>
<table><tr><th>segment</th><th>members</th><th>points issued</th><th>cost per member</th></tr>
{% for name, seg in p.cost_per_member.items() %}<tr><td>{{ name }}</td>
<td>{{ "{:,}".format(seg.members) }}</td><td>{{ "{:,}".format(seg.points) }}</td>
<td>{{ seg.cost_per_member|money(p.currency) }}</td></tr>{% endfor %}</table>
<h2>Who moves</h2>
<p>During the period {{ "{:,}".format(p.moved_up) }} members would move up and
{{ "{:,}".format(p.moved_down) }} down.</p>
{% if sim.differences %}<p>Against the baseline,
{{ "{:,}".format(sim.differences.higher_than_baseline) }} members end in a higher tier and
{{ "{:,}".format(sim.differences.lower_than_baseline) }} in a lower one.</p>{% endif %}
<table><tr><th>customer</th><th>from</th><th>to</th><th>purchases</th></tr>
{% for e in p.up_examples + p.down_examples %}<tr><td>{{ e.name }} (#{{ e.customer_id }})</td>
<td>{{ e["from"] }}</td><td>{{ e.to }}</td><td>{{ e.purchases }}</td></tr>{% endfor %}</table>
<h2>Assumptions</h2>
<ul>{% for a in sim.assumptions %}<li><small>{{ a }}</small></li>{% endfor %}</ul>
</body></html>
"""

ROWS = (
    ("members who bought", "members", False),
    ("points issued", "issued", False),
    ("value of points issued", "issued_value", True),
    ("points redeemed", "redeemed", False),
    ("value of rewards given", "redeemed_value", True),
    ("points expired (breakage)", "expired", False),
    ("points taken back on returns", "reversed", False),
    ("points outstanding", "outstanding", False),
    ("liability outstanding", "liability", True),
)


def render_html(sim: Simulation) -> str:
    """The whole report as one HTML string."""
    env = Environment(autoescape=select_autoescape(default=True), trim_blocks=True)
    env.filters["money"] = money_text
    p, b = sim.proposed, sim.baseline

    def fmt(outcome: ProgramOutcome, key: str, money: bool) -> str:
        value: int = getattr(outcome, key)
        return money_text(value, outcome.currency) if money else f"{value:,}"

    both = [(f"baseline: {b.name}", b)] if b is not None else []
    both.append((f"proposed: {p.name}" if b is not None else p.name, p))
    charts: dict[str, Any] = {
        "rules": bar_chart("Points issued per rule", {n: o.per_rule for n, o in both}),
        "categories": bar_chart(
            "Purchase points per category", {n: o.per_category for n, o in both}
        ),
        "tiers": bar_chart("Members per tier at the end", {n: o.tiers_after for n, o in both}),
        "monthly": line_chart("Points issued per month", {n: o.monthly_issued for n, o in both}),
    }
    return env.from_string(TEMPLATE).render(sim=sim, p=p, b=b, rows=ROWS, fmt=fmt, charts=charts)


__all__ = ["bar_chart", "line_chart", "render_html"]
