"""WebSocket routes. The live-results consumer joins here when it lands."""

websocket_urlpatterns: list = []
