"""Message templates, backoff and unsubscribe tokens: the pure rules of delivery."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from jinja2 import UndefinedError

from regulars.channels import templating
from regulars.channels.templating import available_templates, render, template_problems
from regulars.domain.delivery import make_unsubscribe_token, read_unsubscribe_token, retry_delay

SHIPPED = [
    "birthday_greeting",
    "first_purchase_thanks",
    "points_expiring",
    "tier_up",
    "lapsing_we_miss_you",
    "recall_notice",
    "survey_invite",
    "generic",
]

PROFILE = {
    "first_name": "Ana",
    "last_name": "Silva",
    "full_name": "Ana Silva",
    "city": "Lisboa",
    "language": "pt",
    "location": "Café Lisboa",
    "location_city": "Lisboa",
    "brand": "Café",
    "unsubscribe_url": "http://127.0.0.1:8000/u/1.email.sig",
}
CONTEXT = {
    "tier": "Gold",
    "points": 120,
    "expires_on": "2026-06-01",
    "asset": "Volvo XC60",
    "recall_title": "Airbag inflator check",
    "survey_url": "http://127.0.0.1:8000/s/abc",
    "subject": "News from us",
    "body": "we have something for you.",
}


@pytest.mark.parametrize("name", SHIPPED)
@pytest.mark.parametrize("channel", ["email", "sms", "webhook"])
def test_every_shipped_template_loads_cleanly_for_every_channel(name: str, channel: str) -> None:
    assert template_problems(name, channel) == []


@pytest.mark.parametrize("name", SHIPPED)
def test_every_email_is_personal_and_carries_an_unsubscribe_link(name: str) -> None:
    rendered = render(name, "email", PROFILE | CONTEXT)
    assert "Ana" in rendered.text
    assert PROFILE["unsubscribe_url"] in rendered.text
    assert f'href="{PROFILE["unsubscribe_url"]}"' in rendered.html
    assert rendered.subject and "\n" not in rendered.subject


def test_a_points_reminder_names_the_points_and_the_date() -> None:
    sms = render("points_expiring", "sms", PROFILE | CONTEXT)
    assert "120 points" in sms.text and "2026-06-01" in sms.text and "Café Lisboa" in sms.text
    assert "\n" not in sms.text


def test_html_escapes_what_customers_typed() -> None:
    rendered = render("generic", "email", PROFILE | CONTEXT | {"body": "<script>x</script>"})
    assert "<script>" not in rendered.html
    assert "&lt;script&gt;" in rendered.html


def test_an_unknown_template_or_channel_is_reported_with_its_name() -> None:
    assert template_problems("no_such_thing", "email") == [
        "no email template named 'no_such_thing'"
    ]
    assert "unknown channel 'pigeon'" in template_problems("generic", "pigeon")[0]
    assert "lower-case" in template_problems("../etc/passwd", "email")[0]


def test_a_template_reading_a_field_nobody_provides_is_caught_at_load(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    for source in templating.TEMPLATE_DIR.glob("_footer.*"):
        (folder / source.name).write_text(source.read_text())
    (folder / "shoe_size.sms.j2").write_text("{{ first_name }}, size {{ shoe_size }} is in!")
    (folder / "no_subject.email.j2").write_text("{% block body %}Hi{% endblock %}")
    (folder / "broken.sms.j2").write_text("{{ first_name ")
    monkeypatch.setattr(templating, "TEMPLATE_DIR", folder)
    templating.environment.cache_clear()
    try:
        assert template_problems("shoe_size", "sms") == [
            "template 'shoe_size' (sms) uses unknown field(s): shoe_size"
        ]
        assert "lacks block(s) subject" in template_problems("no_subject", "email")[0]
        assert "does not parse" in template_problems("broken", "sms")[0]
    finally:
        templating.environment.cache_clear()


def test_rendering_without_a_needed_field_fails_loudly_instead_of_sending_blanks() -> None:
    with pytest.raises(UndefinedError):
        render("points_expiring", "sms", PROFILE)


def test_the_shipped_list_is_what_is_on_disk() -> None:
    on_disk = available_templates()
    assert set(SHIPPED) <= set(on_disk)
    assert all(set(on_disk[name]) == {"email", "sms"} for name in SHIPPED)


@given(
    key=st.text(min_size=1, max_size=60),
    attempt=st.integers(min_value=1, max_value=60),
    base=st.floats(min_value=1, max_value=600),
    cap=st.floats(min_value=600, max_value=86_400),
)
def test_retries_back_off_exponentially_with_bounded_reproducible_jitter(
    key: str, attempt: int, base: float, cap: float
) -> None:
    delay = retry_delay(key, attempt, base_s=base, cap_s=cap)
    raw = min(cap, base * 2 ** (attempt - 1))
    assert timedelta(seconds=raw) - timedelta(microseconds=1) <= delay
    assert delay <= timedelta(seconds=min(cap, raw * 1.25)) + timedelta(microseconds=1)
    assert delay == retry_delay(key, attempt, base_s=base, cap_s=cap)


@given(key=st.text(min_size=1, max_size=30), attempt=st.integers(min_value=1, max_value=8))
def test_each_retry_waits_at_least_as_long_as_the_one_before_until_the_cap(
    key: str, attempt: int
) -> None:
    first = retry_delay(key, attempt, base_s=60, cap_s=10**9)
    second = retry_delay(key, attempt + 1, base_s=60, cap_s=10**9)
    assert second >= first


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        retry_delay("k", 0, base_s=60, cap_s=3600)


@given(
    customer_id=st.integers(min_value=1, max_value=10**15),
    channel=st.sampled_from(["email", "sms"]),
)
def test_an_unsubscribe_token_names_its_customer_and_channel(
    customer_id: int, channel: str
) -> None:
    token = make_unsubscribe_token("secret", customer_id, channel)
    assert read_unsubscribe_token("secret", token) == (customer_id, channel)
    assert read_unsubscribe_token("another secret", token) is None


@given(customer_id=st.integers(min_value=1, max_value=10**6))
def test_nobody_can_turn_their_own_link_into_someone_elses(customer_id: int) -> None:
    token = make_unsubscribe_token("secret", customer_id, "email")
    _, channel, signature = token.split(".")
    forged = f"{customer_id + 1}.{channel}.{signature}"
    assert read_unsubscribe_token("secret", forged) is None
    assert read_unsubscribe_token("secret", token.replace(".email.", ".sms.")) is None


@given(st.text(max_size=80))
def test_garbage_is_never_mistaken_for_a_token(garbage: str) -> None:
    assert read_unsubscribe_token("secret", garbage) is None


@pytest.mark.parametrize(
    ("language", "greeting", "stop"),
    [
        ("pt", "Feliz aniversário, Ana!", "Parar:"),
        ("pt-BR", "Feliz aniversário, Ana!", "Parar:"),  # no pt-BR variant: Portuguese it is
        ("de", "Happy birthday, Ana!", "Stop:"),  # no German variant: the default
        (None, "Happy birthday, Ana!", "Stop:"),
    ],
)
def test_customers_get_their_own_language_when_a_variant_exists(
    language: str | None, greeting: str, stop: str
) -> None:
    sms = render("birthday_greeting", "sms", PROFILE, language=language)
    email = render("birthday_greeting", "email", PROFILE, language=language)
    assert sms.text.startswith(greeting) and stop in sms.text
    assert email.subject == greeting
    assert PROFILE["unsubscribe_url"] in email.text


def test_a_broken_language_variant_is_caught_at_load_like_the_default(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    folder = Path(str(tmp_path))
    for source in templating.TEMPLATE_DIR.glob("*tier_up*"):
        (folder / source.name).write_text(source.read_text())
    for source in templating.TEMPLATE_DIR.glob("_footer.*"):
        (folder / source.name).write_text(source.read_text())
    (folder / "tier_up.fr.sms.j2").write_text("{{ first_name }}, niveau {{ niveau }} !")
    (folder / "tier_up.fr.email.j2").write_text("{% block body %}Bonjour{% endblock %}")
    monkeypatch.setattr(templating, "TEMPLATE_DIR", folder)
    templating.environment.cache_clear()
    try:
        assert template_problems("tier_up", "sms") == [
            "template 'tier_up' (sms) uses unknown field(s): niveau"
        ]
        assert (
            "'tier_up.fr.email.j2' lacks block(s) subject"
            in template_problems("tier_up", "email")[0]
        )
        assert set(available_templates()) == {"tier_up"}
    finally:
        templating.environment.cache_clear()
