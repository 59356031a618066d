"""`/metrics` for Prometheus: staff users, or `Authorization: Bearer <METRICS_TOKEN>`."""

import hmac

from django.conf import settings
from django.http import HttpResponse
from drf_spectacular.utils import extend_schema
from prometheus_client import CONTENT_TYPE_LATEST
from rest_framework.permissions import BasePermission
from rest_framework.views import APIView

from media_analyzer.metrics import metrics_text


class StaffOrMetricsToken(BasePermission):
    def has_permission(self, request, view) -> bool:
        token = settings.CONFIG.metrics_token
        header = request.headers.get("Authorization", "")
        if token and header.startswith("Bearer ") and hmac.compare_digest(header[7:], token):
            return True
        return bool(request.user and request.user.is_staff)


class MetricsView(APIView):
    permission_classes = [StaffOrMetricsToken]

    @extend_schema(responses={(200, "text/plain"): str})
    def get(self, request):
        return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
