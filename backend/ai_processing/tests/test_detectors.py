"""Real models on real photos, offline: the YOLO path runs NudeNet's YOLOv8 export."""

import shutil
from pathlib import Path

import nudenet
import numpy as np
import pytest
from skimage import data

from ai_processing.analyzers.base import Frame
from ai_processing.analyzers.plugins.faces import FacesAnalyzer
from ai_processing.analyzers.plugins.objects import ObjectsAnalyzer, nms_per_class


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("models")
    shutil.copyfile(Path(nudenet.__file__).parent / "320n.onnx", directory / "faces.onnx")
    return directory


@pytest.fixture(scope="module")
def faces(models_dir):
    analyzer = FacesAnalyzer(models_dir)
    analyzer.load()
    return analyzer


def test_the_face_box_lands_on_the_astronauts_face(faces):
    image = data.astronaut()  # 512 x 512

    [found] = faces.analyze([Frame(0.0, image)])[0]

    x, y, w, h = (value * 512 for value in (found.box.x, found.box.y, found.box.w, found.box.h))
    assert found.label == "face" and found.confidence > 0.5
    assert 165 <= x <= 185 and 265 <= x + w <= 285
    assert 65 <= y <= 95 and 170 <= y + h <= 190


def test_boxes_map_back_through_the_letterbox(faces):
    """The same face in a wide frame, off-centre: the box follows it."""
    canvas = np.full((720, 1280, 3), 40, np.uint8)
    canvas[100:612, 600:1112] = data.astronaut()

    [found] = faces.analyze([Frame(0.0, canvas)])[0]

    assert abs(found.box.x * 1280 - (600 + 173)) < 12
    assert abs(found.box.y * 720 - (100 + 83)) < 12


def test_no_faces_in_a_photo_without_people(faces):
    assert faces.analyze([Frame(0.0, data.coffee())])[0] == []


def test_class_names_and_input_size_come_from_the_model(models_dir):
    shutil.copyfile(models_dir / "faces.onnx", models_dir / "yolo11n.onnx")
    objects = ObjectsAnalyzer(models_dir)
    objects.load()

    assert objects.input_size == (320, 320)  # dynamic axes: the exported imgsz
    assert objects.names[1] == "FACE_FEMALE" and len(objects.names) == 18


def test_missing_weights_disable_the_analyzer_with_a_clear_message(tmp_path):
    status = ObjectsAnalyzer(tmp_path).status()

    assert status.state == "disabled"
    assert "yolo11n.onnx" in status.message and "fetch_models" in status.message


def test_nms_keeps_the_best_box_per_class_and_boxes_of_other_classes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10]], dtype=float)
    scores = np.array([0.9, 0.8, 0.7])
    classes = np.array([0, 0, 1])

    assert sorted(nms_per_class(boxes, scores, classes, iou=0.5)) == [0, 2]
