"""HTMX: whether a request wants a partial, and the ``Vary`` header that keeps the two apart.

A partial and its page share a URL (STYLE: the Hypermedia Systems contact app), so every answer
says ``Vary: HX-Request``: a cache, or the browser's back button, must never show a bare partial
where the page belongs.  A history restore (``HX-History-Restore-Request``) gets the whole page.
"""

from __future__ import annotations

from flask import Flask, Response, request


def is_htmx() -> bool:
    """Whether HTMX asked for a partial (not a history restore, which needs the whole page)."""
    return (
        request.headers.get("HX-Request") == "true"
        and request.headers.get("HX-History-Restore-Request") != "true"
    )


def _vary(response: Response) -> Response:
    response.vary.add("HX-Request")
    return response


def init_app(app: Flask) -> None:
    """Send ``Vary: HX-Request`` with every answer."""
    app.after_request(_vary)
