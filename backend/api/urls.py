from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from api import auth, brands, corrections, exposure, health, hls, kinds, metrics, results, streams, uploads

urlpatterns = [
    path("health", health.HealthView.as_view(), name="health"),
    path("metrics", metrics.MetricsView.as_view(), name="metrics"),
    path("kinds/", kinds.KindListView.as_view(), name="kind-list"),
    path("auth/login/", auth.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", auth.LogoutView.as_view(), name="auth-logout"),
    path("auth/token/", auth.TokenView.as_view(), name="auth-token"),
    path("auth/me/", auth.MeView.as_view(), name="auth-me"),
    path("streams/", streams.StreamListCreateView.as_view(), name="stream-list"),
    path("streams/<uuid:stream_id>/", streams.StreamDetailView.as_view(), name="stream-detail"),
    path("streams/<uuid:stream_id>/rotate-key/", streams.StreamRotateKeyView.as_view(), name="stream-rotate-key"),
    path("streams/<uuid:stream_id>/analysis/", streams.StreamAnalysisView.as_view(), name="stream-analysis"),
    path("streams/<uuid:stream_id>/mode/", streams.StreamModeView.as_view(), name="stream-mode"),
    path("streams/<uuid:stream_id>/segments/", streams.SegmentListView.as_view(), name="stream-segments"),
    path("streams/<uuid:stream_id>/frames/", results.FrameListView.as_view(), name="stream-frames"),
    path("streams/<uuid:stream_id>/detections/", results.DetectionListView.as_view(), name="stream-detections"),
    path("streams/<uuid:stream_id>/hls/<str:name>", hls.HlsView.as_view(), name="stream-hls"),
    path("streams/<uuid:stream_id>/exposure/", exposure.ExposureView.as_view(), name="stream-exposure"),
    path("streams/<uuid:stream_id>/exposure.csv", exposure.ExposureCsvView.as_view(), name="stream-exposure-csv"),
    path("streams/<uuid:stream_id>/appearances/", exposure.AppearanceListView.as_view(), name="stream-appearances"),
    path(
        "streams/<uuid:stream_id>/appearances.csv", exposure.AppearanceCsvView.as_view(), name="stream-appearances-csv"
    ),
    path(
        "streams/<uuid:stream_id>/appearances/<int:appearance_id>/thumbnail",
        exposure.AppearanceThumbnailView.as_view(),
        name="stream-appearance-thumbnail",
    ),
    path(
        "streams/<uuid:stream_id>/appearances/<int:appearance_id>/reject/",
        corrections.AppearanceRejectView.as_view(),
        name="stream-appearance-reject",
    ),
    path("streams/<uuid:stream_id>/logo-missed/", corrections.LogoMissedView.as_view(), name="stream-logo-missed"),
    path("alerts/", exposure.AlertRuleListCreateView.as_view(), name="alert-list"),
    path("alerts/<int:rule_id>/", exposure.AlertRuleDetailView.as_view(), name="alert-detail"),
    path("alerts/<int:rule_id>/firings/", exposure.AlertFiringListView.as_view(), name="alert-firings"),
    path("uploads/", uploads.UploadView.as_view(), name="uploads"),
    path("brands/", brands.BrandListCreateView.as_view(), name="brand-list"),
    path("brands/<int:brand_id>/", brands.BrandDetailView.as_view(), name="brand-detail"),
    path("brands/<int:brand_id>/images/", brands.BrandImageCreateView.as_view(), name="brand-images"),
    path(
        "brands/<int:brand_id>/images/<int:image_id>/", brands.BrandImageDetailView.as_view(), name="brand-image-detail"
    ),
    path("brands/<int:brand_id>/corrections/", corrections.BrandCorrectionListView.as_view(), name="brand-corrections"),
    path(
        "brands/<int:brand_id>/corrections/<int:correction_id>/",
        corrections.BrandCorrectionDetailView.as_view(),
        name="brand-correction-detail",
    ),
    path(
        "brands/<int:brand_id>/corrections/<int:correction_id>/image",
        corrections.BrandCorrectionImageView.as_view(),
        name="brand-correction-image",
    ),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    # Our template: drf-spectacular's own links Google Fonts, and the docs load nothing from elsewhere.
    path("redoc/", SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html"), name="redoc"),
]
