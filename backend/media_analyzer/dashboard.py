"""Serves the Angular dashboard: WhiteNoise serves its files, this view answers the
client-side routes (/streams/<id>, /login) with index.html."""

from django.conf import settings
from django.http import FileResponse, HttpResponse

NOT_BUILT = (
    "<!doctype html><title>Media Analyzer</title><p>The dashboard is not built yet: "
    "<code>scripts/run</code> builds it (needs Node.js 20.19+). The API is at <a href=/api/docs/>/api/docs/</a>.</p>"
)


def dashboard_index(request, path=""):
    index = settings.FRONTEND_DIST / "index.html"
    if not index.is_file():
        return HttpResponse(NOT_BUILT, status=503)
    return FileResponse(index.open("rb"), content_type="text/html", headers={"Cache-Control": "no-cache"})
