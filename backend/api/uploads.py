"""`POST /api/uploads/`: a video file in, a batch-analysed stream out."""

import tempfile
from pathlib import Path

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from api.inputs import validated
from api.streams import StreamOut
from streaming.uploads import UploadRejected, upload_ingest


class UploadIn(serializers.Serializer):
    file = serializers.FileField(help_text="MP4, MOV or MKV with H.264 video (AAC or MP3 audio).")
    name = serializers.CharField(max_length=120, required=False)


class UploadView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(request=UploadIn, responses={201: StreamOut})
    def post(self, request):
        data = validated(UploadIn, request.data)
        upload = data["file"]
        with tempfile.TemporaryDirectory() as scratch:  # removed whatever happens
            path = Path(scratch) / "upload"
            with path.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            try:
                stream = upload_ingest(owner=request.user, name=data.get("name") or upload.name[:120], path=path)
            except UploadRejected as exc:
                raise serializers.ValidationError({"file": [str(exc)]}) from None
        return Response(StreamOut(stream).data, status=201)
