"""The ASGI entry point: a web app built from the environment's settings.

``regulars serve`` hands this to uvicorn by name, and a deployment can do the same:
``uvicorn --factory regulars.web.asgi:app_from_settings --host 0.0.0.0 --port 8000``.
"""

from __future__ import annotations

from fastapi import FastAPI

from regulars.bootstrap import build
from regulars.web.app import create_app


def app_from_settings() -> FastAPI:
    """Build the runtime (migrating the database if needed) and the app around it."""
    return create_app(build())


__all__ = ["app_from_settings"]
