"""Message templates: Jinja2 files under ``regulars/templates/messages``, one per channel.

An e-mail template (``<name>.email.j2``) has a ``subject`` and a ``body`` block; the shared
footer (``_footer.email.j2``) adds the one-click unsubscribe link to every e-mail. An SMS
template (``<name>.sms.j2``) is the text itself, followed by ``_footer.sms.j2``. Webhooks
carry the SMS text plus the raw context, so they use the SMS template. A customer whose
language has a variant (``<name>.pt.email.j2``, ``_footer.pt.email.j2``) gets that one;
everyone else the default.

``StrictUndefined`` makes a missing field an error instead of an empty string, and
``template_problems`` finds such fields when a playbook is loaded, long before a send.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Template,
    TemplateError,
    TemplateNotFound,
    meta,
)

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates" / "messages"

#: Fields the worker fills in from the customer's profile at send time.
PROFILE_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "full_name",
        "city",
        "language",
        "location",
        "location_city",
        "brand",
        "unsubscribe_url",
    }
)

#: Fields a playbook (the planner) may put in a message's context.
CONTEXT_FIELDS = frozenset(
    {
        "tier",
        "points",
        "expires_on",
        "asset",
        "recall_title",
        "survey_url",
        "subject",
        "body",
        "reward",
        "member_name",
        "occasion",
    }
)


#: ``pt`` or ``pt-BR``: the middle part of a language variant's file name.
LANGUAGE_CODE = re.compile(r"[a-z]{2}(-[A-Z]{2})?")


def _kind(channel: str) -> str:
    return "sms" if channel == "webhook" else channel


def _file_for(name: str, channel: str) -> str:
    return f"{name}.{_kind(channel)}.j2"


def _localised(stem: str, kind: str, language: str | None) -> list[str]:
    """File names to try, most specific first: ``pt-BR``, then ``pt``, then the default."""
    names: list[str] = []
    if language:
        base = language.split("-")[0].lower()
        for code in dict.fromkeys((language, base)):
            names.append(f"{stem}.{code}.{kind}.j2")
    names.append(f"{stem}.{kind}.j2")
    return names


def _variants(name: str, kind: str) -> list[str]:
    """The language variants of a template on disk (``birthday_greeting.pt.email.j2`` …)."""
    return sorted(
        path.name
        for path in TEMPLATE_DIR.glob(f"{name}.*.{kind}.j2")
        if LANGUAGE_CODE.fullmatch(path.name[len(name) + 1 : -len(f".{kind}.j2")])
    )


@lru_cache(maxsize=1)
def environment() -> Environment:
    """One environment for all message templates (they are read once and cached)."""
    return Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        undefined=StrictUndefined,
        keep_trailing_newline=False,
        trim_blocks=True,
        autoescape=False,  # noqa: S701 - plain-text templates; to_html escapes the HTML part
    )


def _source_fields(file_name: str) -> set[str]:
    return set(_parsed_fields(environment(), file_name))


@lru_cache(maxsize=512)
def _parsed_fields(env: Environment, file_name: str) -> frozenset[str]:
    """Parsed once per environment: the planner validates every message it queues."""
    source, _, _ = env.loader.get_source(env, file_name)  # type: ignore[union-attr]
    return frozenset(meta.find_undeclared_variables(env.parse(source)))


def template_fields(name: str, channel: str) -> set[str]:
    """Every field the template, its language variants and footers read; raises when broken."""
    kind = _kind(channel)
    files = [_file_for(name, channel), *_variants(name, kind)]
    files += [f"_footer.{kind}.j2", *_variants("_footer", kind)]
    return set().union(*(_source_fields(file) for file in files))


def available_templates() -> dict[str, list[str]]:
    """Template name → the channels it exists for."""
    out: dict[str, list[str]] = {}
    for path in sorted(TEMPLATE_DIR.glob("*.j2")):
        parts = path.name.split(".")
        if path.name.startswith("_") or len(parts) != 3:
            continue  # footers and language variants belong to a template listed by its name
        name, channel, _ = parts
        out.setdefault(name, []).append(channel)
    return out


def template_problems(name: str, channel: str) -> list[str]:
    """What is wrong with a template for a channel, in words; empty when it can be used."""
    if channel not in ("email", "sms", "webhook"):
        return [f"unknown channel {channel!r}; expected email, sms or webhook"]
    if not re.fullmatch(r"[a-z0-9_]{1,80}", name):
        return [f"template name {name!r} must be lower-case letters, digits and underscores"]
    try:
        environment().get_template(_file_for(name, channel))
        fields = template_fields(name, channel)
        if channel == "email":
            for file in [_file_for(name, channel), *_variants(name, "email")]:
                blocks = environment().get_template(file).blocks
                missing_blocks = {"subject", "body"} - set(blocks)
                if missing_blocks:
                    lacking = ", ".join(sorted(missing_blocks))
                    return [f"template {file!r} lacks block(s) {lacking}"]
    except TemplateNotFound:
        kind = "sms" if channel == "webhook" else channel
        return [f"no {kind} template named {name!r}"]
    except TemplateError as error:
        return [f"template {name!r} ({channel}) does not parse: {error}"]
    unknown = sorted(fields - PROFILE_FIELDS - CONTEXT_FIELDS)
    if unknown:
        return [f"template {name!r} ({channel}) uses unknown field(s): {', '.join(unknown)}"]
    return []


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def _block(template: Template, block: str, variables: dict[str, Any]) -> str:
    context = template.new_context(variables)
    return "".join(template.blocks[block](context)).strip()


def render(
    name: str, channel: str, variables: dict[str, Any], *, language: str | None = None
) -> Rendered:
    """Render a message in the customer's language when a variant exists, else the default.

    A missing field raises ``jinja2.UndefinedError``.
    """
    env = environment()
    kind = _kind(channel)
    template = env.select_template(_localised(name, kind, language))
    footer_template = env.select_template(_localised("_footer", kind, language))
    if channel == "email":
        subject = " ".join(_block(template, "subject", variables).split())
        body = _block(template, "body", variables)
        footer = footer_template.render(variables).strip()
        text = f"{body}\n\n{footer}\n"
        return Rendered(subject=subject, text=text, html=to_html(body, footer))
    body = " ".join(template.render(variables).split())
    footer = " ".join(footer_template.render(variables).split())
    return Rendered(subject="", text=f"{body} {footer}".strip(), html="")


_URL = re.compile(r"https?://[^\s<>\"']+")


def to_html(body: str, footer: str) -> str:
    """A simple HTML alternative: escaped paragraphs, links made clickable."""

    def paragraph(block: str) -> str:
        escaped = html.escape(block.strip())
        linked = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        return "<p>" + linked.replace("\n", "<br>\n") + "</p>"

    parts = [paragraph(b) for b in re.split(r"\n\s*\n", body) if b.strip()]
    foot = paragraph(footer.removeprefix("--").strip())
    return (
        '<!doctype html>\n<html><body style="font-family: sans-serif; line-height: 1.5">\n'
        + "\n".join(parts)
        + f'\n<hr>\n<div style="color: #666; font-size: small">{foot}</div>\n</body></html>\n'
    )


__all__ = [
    "CONTEXT_FIELDS",
    "PROFILE_FIELDS",
    "Rendered",
    "available_templates",
    "render",
    "template_fields",
    "template_problems",
]
