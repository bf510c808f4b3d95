"""The web application: the JSON API under /api/v1, the staff console, and the login form.

``create_app`` takes a built ``Runtime`` (database, clock, settings) and keeps it on
``app.state.runtime``; every route reaches it through ``web.deps``. Each area adds its router
in the marked block below with one line.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import RedirectResponse

from regulars.bootstrap import Runtime
from regulars.web import auth, console
from regulars.web.api import access as access_api
from regulars.web.api import audit as audit_api
from regulars.web.api import customers as customers_api
from regulars.web.api import events as events_api
from regulars.web.api import loyalty as loyalty_api
from regulars.web.api import outbox as outbox_api
from regulars.web.api import planner as planner_api
from regulars.web.api import privacy as privacy_api
from regulars.web.api import unsubscribe as unsubscribe_api
from regulars.web.errors import install_error_handlers
from regulars.web.headers import SecurityHeaders
from regulars.web.limits import DEFAULT_MAX_BODY_BYTES, BodySizeLimit

API_DESCRIPTION = """
The same capabilities as the staff console, for tills, shops, apps and integrations.

**Authentication**: `Authorization: Bearer <API key>` (create one with
`regulars apikey create`). **Errors** always look like
`{"error": {"code": …, "message": …, "field": …}}`. **Idempotency**: POSTs that create
something accept an `Idempotency-Key` header; a retry gets the first answer.
"""


def create_app(runtime: Runtime, *, max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> FastAPI:
    """Build the ASGI app around an already-built runtime (tests pass their own)."""
    app = FastAPI(
        title="regulars",
        version="1",
        description=API_DESCRIPTION,
        docs_url="/docs",
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=max_body_bytes)
    # outermost: a 413 or a 500 carries them too
    app.add_middleware(SecurityHeaders, tls=runtime.settings.base_url.startswith("https://"))

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/", include_in_schema=False)
    def home() -> RedirectResponse:
        """Someone who types just the server's address lands on the console (or its login)."""
        return RedirectResponse("/console/", status_code=307)

    app.include_router(auth.router)
    app.include_router(access_api.router)
    app.include_router(customers_api.router)
    app.include_router(events_api.router)
    app.include_router(audit_api.router)
    app.include_router(privacy_api.router)

    # -- routers of each area: one line each ------------------------------------------
    # (loyalty, planner, unsubscribe, console … add `app.include_router(...)` here)
    app.include_router(planner_api.router)
    app.include_router(loyalty_api.router)
    app.include_router(console.router)
    app.include_router(unsubscribe_api.router)
    app.include_router(outbox_api.router)
    # -- end of area routers ----------------------------------------------------------

    return app


__all__ = ["create_app"]
