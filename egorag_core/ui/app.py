"""The pages of ``egorag ui`` (Starlette routes, Jinja2 templates, every string escaped).

    /                              search: query, modality, video; hits as cards
    /video/{key}?t=SECONDS         the player at SECONDS and the video's scene timeline
    /sweep                         a sweep's comparison and one query against every job
    /media/{index}/{key}           the video file the index names for key (HTTP ranges)
    /thumb/{index}/{key}/{scene}   a scene's thumbnail (JPEG; a placeholder when it cannot be made)

No route takes a file path: videos are named by their key in the index (and ``index`` is the
position of the index among those served), so a request reaches only the files the index names.
"""

from __future__ import annotations

import logging
import mimetypes
import time
from collections.abc import Sequence
from importlib import resources
from typing import Any

from jinja2 import Environment, PackageLoader
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from ..errors import EgoragError
from .catalog import Catalog, Video
from .sweep import Sweep
from .text import clock, excerpt, marked
from .thumbs import Thumbnails, cache_folder

log = logging.getLogger("egorag.ui")

#: The files under ``static/`` that are served, with their media types.
STATIC = {"ui.css": "text/css", "player.js": "text/javascript",
          "placeholder.svg": "image/svg+xml"}  # fmt: skip
#: The names this machine reaches a server on 127.0.0.1 by (the ``Host`` header's).
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]", "::1")
#: Hits on the search page (at most ``MAX_K``), scenes per video page, hits per sweep job.
K, MAX_K, PAGE, SWEEP_K = 20, 100, 100, 5


def templates() -> Environment:
    """The page templates, autoescaped, with the filters they use."""
    env = Environment(loader=PackageLoader("egorag_core.ui", "templates"), autoescape=True)
    env.filters["clock"] = clock
    env.filters["excerpt"] = excerpt
    env.filters["marked"] = lambda text, query: Markup(marked(text or "", query or ""))
    return env


def _number(value: str | None, default: float, low: float, high: float) -> float:
    """A number from the query string, clamped to ``[low, high]`` (``default`` when absent or
    not a number)."""
    try:
        number = float(value) if value not in (None, "") else default
    except ValueError:
        number = default
    return min(high, max(low, number)) if number == number else default  # NaN: default


class Pages:
    """The served indexes (``catalogs``; a sweep's jobs), their thumbnails and the pages."""

    def __init__(self, catalogs: list[Catalog], sweep: Sweep | None = None):
        self.catalogs = catalogs
        self.sweep = sweep
        self.thumbs = [Thumbnails(cache_folder(c.path)) for c in catalogs]
        self.env = templates()
        self.static = {name: (resources.files(__package__) / "static" / name).read_bytes()
                       for name in STATIC}  # fmt: skip

    # -- helpers --------------------------------------------------------------------------------
    def render(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("sweep", self.sweep)
        context.setdefault("catalogs", self.catalogs)
        return HTMLResponse(self.env.get_template(name).render(**context), status_code=status)

    def message(self, title: str, text: str, status: int) -> HTMLResponse:
        """A page saying what went wrong in one line (no traceback)."""
        return self.render("message.html", status, title=title, text=text)

    def catalog(self, request: Request) -> tuple[int, Catalog]:
        """The index asked for by ``?index=N`` (default the first); 404 for another value."""
        raw = request.path_params.get("n", request.query_params.get("index", 0))
        try:
            n = int(raw)
        except ValueError:
            n = -1
        if not 0 <= n < len(self.catalogs):
            raise HTTPException(404, f"no index {raw!s} here")
        return n, self.catalogs[n]

    def found_video(self, catalog: Catalog, key: str) -> Video:
        video = catalog.video(key)
        if video is None:
            raise HTTPException(404, "no such video in this index")
        return video

    # -- pages ----------------------------------------------------------------------------------
    def search_page(self, request: Request) -> Response:
        if self.sweep is not None and "index" not in request.query_params:
            return RedirectResponse("/sweep", 302)
        n, catalog = self.catalog(request)
        params = request.query_params
        query, modality = params.get("q", ""), params.get("modality", "auto")
        video, k = params.get("video", ""), int(_number(params.get("k"), K, 1, MAX_K))
        hits: list[Any] = []
        notes: list[str] = []
        error = ""
        began = time.perf_counter()
        if query.strip():
            try:
                hits, notes = catalog.search(query, modality, video, k)
            except EgoragError as exc:
                error = str(exc)
        searched = time.perf_counter()
        videos = catalog.videos()
        cards = [self.card(n, catalog, hit, videos.get(hit.key)) for hit in hits]
        response = self.render("search.html", n=n, catalog=catalog, query=query,
                               modality=modality, video=video, k=k, cards=cards, notes=notes,
                               error=error, videos=sorted({v.name for v in videos.values()}))
        rendered = time.perf_counter()  # Server-Timing: what a browser's tools show
        response.headers["Server-Timing"] = (f"search;dur={(searched - began) * 1000:.1f}, "
                                             f"page;dur={(rendered - searched) * 1000:.1f}")
        return response

    def card(self, n: int, catalog: Catalog, hit: Any, video: Video | None) -> dict[str, Any]:
        """What a hit's card shows (the Hit's fields, its links, whether its file is there)."""
        media = video.media() if video is not None else None
        return {"hit": hit, "missing": media is None or media.path is None,
                "problem": media.problem if media is not None else "",
                "wall_time": getattr(hit, "wall_time", None),
                "ocr_text": getattr(hit, "ocr_text", None) or "",
                "href": f"/video/{hit.key}?index={n}&t={hit.start:g}",
                "thumb": f"/thumb/{n}/{hit.key}/{hit.scene_index}"}  # fmt: skip

    def video_page(self, request: Request) -> Response:
        n, catalog = self.catalog(request)
        video = self.found_video(catalog, request.path_params["key"])
        scenes = catalog.scenes(video.key)
        at = _number(request.query_params.get("t"), 0.0, 0.0, max(video.duration, 0.0))
        current = next((s.index for s in scenes if s.start <= at < s.end), 0)
        page = min(int(_number(request.query_params.get("page"), current // PAGE, 0, 1e9)),
                   max(0, (len(scenes) - 1) // PAGE))  # fmt: skip
        media = video.media()
        return self.render("video.html", n=n, catalog=catalog, video=video, at=at, media=media,
                           scenes=scenes[page * PAGE : (page + 1) * PAGE], current=current,
                           page=page, pages=max(1, -(-len(scenes) // PAGE)),
                           page_size=PAGE, total=len(scenes))  # fmt: skip

    def sweep_page(self, request: Request) -> Response:
        if self.sweep is None:
            return self.message("No sweep", "start egorag ui --sweep DIR to compare the jobs "
                                "of a multirun", 404)  # fmt: skip
        query, modality = request.query_params.get("q", ""), request.query_params.get(
            "modality", "auto")  # fmt: skip
        columns = []
        for n, catalog in enumerate(self.catalogs):
            hits, error = [], ""
            if query.strip():
                try:
                    hits = catalog.search(query, modality, None, SWEEP_K)[0]
                except EgoragError as exc:
                    error = str(exc)
            columns.append({"catalog": catalog, "n": n, "error": error,
                            "cards": [self.card(n, catalog, h, catalog.video(h.key))
                                      for h in hits]})  # fmt: skip
        header, cells = self.sweep.table()
        chart, why = self.sweep.chart(cache_folder(self.sweep.folder / "index"))
        return self.render("sweep.html", query=query, modality=modality, columns=columns,
                           modalities=self.catalogs[0].modalities(),
                           header=header, cells=cells, chart=chart is not None, chart_note=why,
                           problems=self.sweep.problems)  # fmt: skip

    # -- files ----------------------------------------------------------------------------------
    def media(self, request: Request) -> Response:
        _, catalog = self.catalog(request)
        media = self.found_video(catalog, request.path_params["key"]).media()
        if media.path is None:
            status = 404 if "missing" in media.problem else 403
            return Response(media.problem, status, media_type="text/plain")
        kind = mimetypes.guess_type(media.path.name)[0] or "application/octet-stream"
        return FileResponse(media.path, media_type=kind)

    def thumb(self, request: Request) -> Response:
        n, catalog = self.catalog(request)
        video = self.found_video(catalog, request.path_params["key"])
        scene = catalog.scene(video.key, request.path_params["scene"])
        media = video.media()
        if scene is None:
            raise HTTPException(404, "no such scene")
        if media.path is not None:
            try:
                data = self.thumbs[n].get(media.path, video.key, scene.index, scene.thumb_time)
                return Response(data, media_type="image/jpeg",
                                headers={"Cache-Control": "private, max-age=3600"})  # fmt: skip
            except (EgoragError, OSError) as exc:
                log.warning("thumbnail of %s scene %d: %s", video.name, scene.index, exc)
        return self.static_file("placeholder.svg")

    def static_file(self, name: str) -> Response:
        if name not in STATIC:
            raise HTTPException(404, "no such file")
        return Response(self.static[name], media_type=STATIC[name])

    def sweep_chart(self, request: Request) -> Response:
        chart = self.sweep.chart(cache_folder(self.sweep.folder / "index"))[0] \
            if self.sweep else None  # fmt: skip
        if chart is None:
            raise HTTPException(404, "no chart")
        return FileResponse(chart, media_type="image/png")


def create_app(catalogs: list[Catalog], sweep: Sweep | None = None,
               hosts: Sequence[str] | None = LOCAL_HOSTS) -> Starlette:  # fmt: skip
    """The Starlette app serving ``catalogs`` (and ``sweep``'s page where given). Requests
    naming another host than ``hosts`` (``None``: any) are refused, so a web page elsewhere
    cannot read this one through a name that resolves to 127.0.0.1 (DNS rebinding)."""
    pages = Pages(catalogs, sweep)

    async def not_found(request: Request, exc: Exception) -> Response:
        detail = getattr(exc, "detail", "") or "not found"
        status = getattr(exc, "status_code", 404)
        return pages.message("Not found" if status == 404 else "Refused", detail, status)

    async def failed(request: Request, exc: Exception) -> Response:
        log.exception("egorag ui: %s failed", request.url.path)
        return pages.message("Something went wrong", f"{type(exc).__name__}: {exc}", 500)

    routes = [
        Route("/", pages.search_page),
        Route("/video/{key}", pages.video_page),
        Route("/sweep", pages.sweep_page),
        Route("/sweep/chart.png", pages.sweep_chart),
        Route("/media/{n:int}/{key}", pages.media),
        Route("/thumb/{n:int}/{key}/{scene:int}", pages.thumb),
        Route("/static/{name}", lambda request: pages.static_file(request.path_params["name"])),
    ]
    middleware = [Middleware(TrustedHostMiddleware, allowed_hosts=list(hosts))] if hosts else []
    return Starlette(routes=routes, middleware=middleware,
                     exception_handlers={HTTPException: not_found, Exception: failed})
