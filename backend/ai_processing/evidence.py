"""Evidence of a sighting: the frame around it, with the box drawn. Cut while the frame is
decoded (the pipeline keeps no images); exposure stores it with the brand's appearance."""

from __future__ import annotations

import cv2
import numpy as np

from ai_processing.analyzers.base import Box

THUMBNAIL_WIDTH = 320


def thumbnail_jpeg(image: np.ndarray, box: Box) -> bytes:
    """The whole frame scaled to THUMBNAIL_WIDTH, the sighting outlined: where it was on
    screen matters as much as what it looked like."""
    height, width = image.shape[:2]
    scale = THUMBNAIL_WIDTH / width
    small = cv2.resize(image, (THUMBNAIL_WIDTH, max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
    x, y = round(box.x * THUMBNAIL_WIDTH), round(box.y * height * scale)
    w, h = round(box.w * THUMBNAIL_WIDTH), round(box.h * height * scale)
    small = np.ascontiguousarray(small[..., ::-1])  # OpenCV draws and encodes BGR
    cv2.rectangle(small, (x, y), (x + w, y + h), (0, 200, 255), 2)
    ok, jpeg = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 80])
    return jpeg.tobytes()
