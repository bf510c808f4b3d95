"""The ASGI entry point: a web app built from the environment's settings.

``regulars serve`` hands this to uvicorn by name, and a deployment can do the same:
``uvicorn --factory regulars.web.asgi:app_from_settings --host 0.0.0.0 --port 8000``.
"""

from __future__ import annotations

import gc
from urllib.parse import urlsplit

from fastapi import FastAPI

from regulars.bootstrap import build
from regulars.config import Settings, get_settings
from regulars.web.app import create_app

#: Where the demo runs: links to these reach nobody but the person at this computer.
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class PublishedSecret(RuntimeError):
    """The server would sign links with a secret printed in the documentation."""


def app_from_settings() -> FastAPI:
    """Build the runtime (migrating the database if needed) and the app around it."""
    settings = get_settings()
    refuse_published_secret(settings)
    return ready_to_serve(create_app(build(settings)))


def refuse_published_secret(settings: Settings) -> None:
    """Refuse to serve customers' links signed with the demo secret everyone can read.

    Unsubscribe links carry the customer's id signed with ``REGULARS_SECRET_KEY``; with the
    documented default, anyone can sign a link for every id in turn and unsubscribe a whole
    customer base. The demo (served on this computer only) keeps working with it.
    """
    default = Settings.model_fields["secret_key"].default
    host = urlsplit(settings.base_url).hostname or ""
    if settings.secret_key == default and host not in LOCAL_HOSTS:
        raise PublishedSecret(
            f"REGULARS_SECRET_KEY is the demo value, and REGULARS_BASE_URL ({settings.base_url}) "
            "is not this computer: anyone could sign unsubscribe links for your customers. "
            "Set REGULARS_SECRET_KEY to a long random value "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))')."
        )


def ready_to_serve(app: FastAPI) -> FastAPI:
    """Take what the process built at start-up out of the cycle collector's sight.

    Modules, routes, schemas and the runtime live as long as the server does, yet every full
    collection walked all of them again: a 70 ms pause in the middle of the counter's rush,
    the slowest check-in of bench/checkin_load.py. Freezing them once keeps full collections
    down to the objects that requests create.
    """
    gc.collect()
    gc.freeze()
    return app


__all__ = ["PublishedSecret", "app_from_settings", "ready_to_serve", "refuse_published_secret"]
