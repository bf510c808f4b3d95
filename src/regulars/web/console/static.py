"""The console's stylesheet and script, served by name from the package (no build step).

Only the files that exist in ``web/static`` are served, so a path can never climb out of it.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import FileResponse

from regulars.domain.errors import NotFound
from regulars.web.console.rendering import STATIC_DIR

router = APIRouter()

MEDIA_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
FILES = {path.name: path for path in STATIC_DIR.iterdir() if path.suffix in MEDIA_TYPES}


@router.get("/static/{name}")
def static_file(name: str) -> FileResponse:
    path = FILES.get(name)
    if path is None:
        raise NotFound("no such file", field="name")
    return FileResponse(
        path,
        media_type=MEDIA_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=3600"},
    )
