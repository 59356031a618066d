"""Content-Security-Policy (Django 5.2 has no built-in one; 6.0 adds it).

The dashboard may load its own files only. API responses (JSON, media) are never meant to
run anything or be framed, so they get the strictest policy. The admin and the API docs pages
(Swagger UI and Redoc, each started by an inline script) are left to themselves."""

from django.core.exceptions import DisallowedHost

API_POLICY = "default-src 'none'; frame-ancestors 'none'"
UNPOLICED_PREFIXES = ("/admin/", "/api/docs/", "/api/redoc/", "/static/")


def _socket_sources(request) -> str:
    try:
        host = request.get_host()
    except DisallowedHost:  # this response is the 400 for that host: name none
        return ""
    return f" ws://{host} wss://{host}"


def dashboard_policy(request) -> str:
    directives = {
        "default-src": "'self'",
        # No inline script: the build does not inline critical CSS (angular.json), whose
        # stylesheet switch is an onload="" handler 'self' would block.
        "script-src": "'self'",
        # Angular adds its component styles as <style> elements at run time; without a
        # per-request nonce wired into the build they need 'unsafe-inline' (style, not script).
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data: blob:",
        "font-src": "'self' data:",
        "media-src": "'self' blob:",  # hls.js feeds the <video> through MediaSource blob: URLs
        "worker-src": "'self' blob:",  # hls.js may run its demuxer in a blob: worker
        # The live socket is same-origin; some browsers do not count ws(s): as 'self'.
        "connect-src": "'self'" + _socket_sources(request),
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def policy_for(request, response) -> str | None:
    path = request.path
    if path.startswith(UNPOLICED_PREFIXES):
        return None
    if path.startswith("/api/"):
        return API_POLICY
    if response.get("Content-Type", "").startswith("text/html"):
        return dashboard_policy(request)
    return None  # the dashboard's scripts, styles and icons: policies apply to documents


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            policy = policy_for(request, response)
            if policy:
                response["Content-Security-Policy"] = policy
        return response
