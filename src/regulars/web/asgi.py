"""The ASGI entry point: a web app built from the environment's settings.

``regulars serve`` hands this to uvicorn by name, and a deployment can do the same:
``uvicorn --factory regulars.web.asgi:app_from_settings --host 0.0.0.0 --port 8000``.
"""

from __future__ import annotations

import gc

from fastapi import FastAPI

from regulars.bootstrap import build
from regulars.web.app import create_app


def app_from_settings() -> FastAPI:
    """Build the runtime (migrating the database if needed) and the app around it."""
    return ready_to_serve(create_app(build()))


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


__all__ = ["app_from_settings", "ready_to_serve"]
