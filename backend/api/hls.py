"""HLS for authorised viewers: `/api/streams/<id>/hls/live.m3u8` is the stable live URL
(a rolling window of the newest session); segments and session playlists sit beside it."""

import re

from django.conf import settings
from django.http import FileResponse, Http404, HttpResponse
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from api.streams import stream_for
from streaming.ingest.playlists import PLAYLIST_NAME, SEGMENT_NAME, newest_playlist, rolling_view

PLAYLIST_TYPE = "application/vnd.apple.mpegurl"
FILE_NAME = re.compile(r"^[\w.-]+$")


class HlsView(APIView):
    @extend_schema(responses={(200, PLAYLIST_TYPE): bytes, (200, "video/mp2t"): bytes})
    def get(self, request, stream_id, name):
        stream = stream_for(request, stream_id)
        directory = settings.CONFIG.hls_root / str(stream.id)
        if name == "live.m3u8":
            playlist = newest_playlist(directory)
            if playlist is None:
                raise Http404("the stream has not been published yet")
            body = rolling_view(playlist.read_text(), settings.CONFIG.hls_live_segments)
            return HttpResponse(body, content_type=PLAYLIST_TYPE, headers={"Cache-Control": "no-cache"})
        if not FILE_NAME.match(name) or not (PLAYLIST_NAME.match(name) or SEGMENT_NAME.match(name)):
            raise Http404("no such file")
        path = directory / name
        if not path.is_file():
            raise Http404("no such file")
        if PLAYLIST_NAME.match(name):
            return HttpResponse(path.read_text(), content_type=PLAYLIST_TYPE, headers={"Cache-Control": "no-cache"})
        return FileResponse(path.open("rb"), content_type="video/mp2t", headers={"Cache-Control": "max-age=3600"})
