"""HTTP routes that hand a signed-in session to the browser as a cookie and take it back.

The pages run over Streamlit's websocket and cannot set an HttpOnly cookie; these two small routes
can. The sign-in page loads `establish` once in a hidden same-origin frame with the one-time
ticket; the response sets the cookie (JavaScript never sees it). After sign-out the sign-in page
loads `clear`, which removes the cookie only when its session has ended or is unknown, so a late
request can never undo a newer sign-in. Neither route reveals anything: both answer an empty page.
"""
from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from dashboard.services.web_sessions import establish, is_dead_token
from dashboard.services.web_sessions import CLEAR_PATH, ESTABLISH_PATH, SESSION_COOKIE, cookie_path, route_path
from db.engine import session_factory

_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
}
_EMPTY_PAGE = "<!doctype html><title></title>"


def _page(status: int = 200) -> Response:
    return Response(_EMPTY_PAGE, status_code=status, media_type="text/html", headers=_HEADERS)


def _from_this_site(request: Request) -> bool:
    """Only the app's own pages may load these routes: another site must not sign a browser into
    an account of its choosing (login CSRF) or probe them. Browsers say where a request comes from
    (Sec-Fetch-Site); SameSite=Strict already keeps the cookie from cross-site requests."""
    return request.headers.get("sec-fetch-site", "same-origin") == "same-origin"


def _secure(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded.split(",")[0].strip() == "https"


def session_routes(base_url_path: str | None = None) -> list[Route]:
    """The routes, under Streamlit's server.baseUrlPath."""
    path = cookie_path(base_url_path)

    def establish_session(request: Request) -> Response:
        if not _from_this_site(request):
            return _page(403)
        ticket = request.query_params.get("ticket", "")
        with session_factory()() as session:
            token = establish(session, ticket, previous_token=request.cookies.get(SESSION_COOKIE))
        if token is None:
            return _page(404)
        response = _page()
        # No Max-Age: the browser forgets it when it closes; the server ends it after the idle time.
        response.set_cookie(SESSION_COOKIE, token, path=path, httponly=True, samesite="strict",
                            secure=_secure(request))
        return response

    def clear_session(request: Request) -> Response:
        token = request.cookies.get(SESSION_COOKIE)
        response = _page()
        if token and _from_this_site(request):
            with session_factory()() as session:
                dead = is_dead_token(session, token)
            if dead:
                response.delete_cookie(SESSION_COOKIE, path=path, httponly=True, samesite="strict",
                                       secure=_secure(request))
        return response

    return [
        Route(route_path(ESTABLISH_PATH, base_url_path), establish_session, methods=["GET"]),
        Route(route_path(CLEAR_PATH, base_url_path), clear_session, methods=["GET"]),
    ]
