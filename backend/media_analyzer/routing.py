from django.urls import path

from api.live import StreamConsumer

websocket_urlpatterns = [
    path("ws/streams/<uuid:stream_id>/", StreamConsumer.as_asgi()),
]
