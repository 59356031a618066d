"""`POST /api/uploads/`: a video file in, a batch-mode stream out (202): checked at once,
remuxed and analysed off the request (streaming.uploads)."""

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import PayloadTooLarge
from api.inputs import validated
from api.streams import StreamOut
from streaming.uploads import UploadRejected, upload_accept


class UploadIn(serializers.Serializer):
    file = serializers.FileField(help_text="MP4, MOV or MKV with H.264 video (AAC or MP3 audio).")
    name = serializers.CharField(max_length=120, required=False)


class SizeLimitedUpload(TemporaryFileUploadHandler):
    """Refuses a body over UPLOAD_MAX_BYTES as it arrives (413): by its Content-Length before
    a byte is read, else once the bytes received pass the limit, so an oversize upload never
    fills the disk first."""

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        self.limit, self.received = settings.CONFIG.upload_max_bytes, 0
        if content_length > self.limit:
            raise PayloadTooLarge(f"larger than {self.limit} bytes")
        return super().handle_raw_input(input_data, META, content_length, boundary, encoding)

    def receive_data_chunk(self, raw_data, start):
        self.received += len(raw_data)
        if self.received > self.limit:
            self.file.close()  # the temporary file goes with it
            raise PayloadTooLarge(f"larger than {self.limit} bytes")
        return super().receive_data_chunk(raw_data, start)


class UploadView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        request=UploadIn,
        responses={202: StreamOut, 413: None},
        description="Answers once the file is stored and checked (container, codecs, a video stream; 400 with "
        "the reason otherwise), with the stream `processing`. Its remux to segments runs in the background: "
        "`upload_progress` goes from 0 to 1 (also pushed as `stream.state` on the stream's socket), and the "
        "stream ends `ended` with its segments registered for analysis, or `failed` with a `status_reason`.",
    )
    def post(self, request):
        request._request.upload_handlers = [SizeLimitedUpload(request._request)]  # before the body is read
        data = validated(UploadIn, request.data)
        upload = data["file"]
        try:
            stream = upload_accept(
                owner=request.user, name=data.get("name") or upload.name[:120], chunks=upload.chunks()
            )
        except UploadRejected as exc:
            raise serializers.ValidationError({"file": [str(exc)]}) from None
        return Response(StreamOut(stream).data, status=202)
