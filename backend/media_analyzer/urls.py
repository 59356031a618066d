from django.contrib import admin
from django.urls import include, path, re_path

from api.auth import admin_login
from media_analyzer.dashboard import dashboard_index

urlpatterns = [
    path("admin/login/", admin_login),  # before the admin's own: the sign-in limits apply to it too
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    # Everything else is a dashboard route; its files are served by WhiteNoise.
    re_path(r"^(?!api/|admin/|static/|ws/).*$", dashboard_index, name="dashboard"),
]
