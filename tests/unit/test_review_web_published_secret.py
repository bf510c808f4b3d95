"""A server on a public address refuses to start with the demo secret printed in the docs.

With it, anyone can sign an unsubscribe link for customer 1, 2, 3 … and stop a whole
shop's e-mails; the demo on this computer keeps running with it.
"""

from __future__ import annotations

import pytest

from regulars.config import Settings
from regulars.web.asgi import PublishedSecret, refuse_published_secret

PUBLISHED = Settings.model_fields["secret_key"].default


def test_a_public_server_with_the_demo_secret_refuses_to_start_naming_the_setting() -> None:
    settings = Settings(base_url="https://shop.example", secret_key=PUBLISHED)
    with pytest.raises(PublishedSecret, match="REGULARS_SECRET_KEY"):
        refuse_published_secret(settings)


@pytest.mark.parametrize(
    "settings",
    [
        Settings(base_url="http://127.0.0.1:8000", secret_key=PUBLISHED),
        Settings(base_url="http://localhost:8000", secret_key=PUBLISHED),
        Settings(base_url="https://shop.example", secret_key="a-long-random-value-0123456789"),
    ],
)
def test_the_local_demo_and_a_server_with_its_own_secret_start(settings: Settings) -> None:
    refuse_published_secret(settings)
