import numpy as np

from ai_processing.analyzers.base import Frame
from ai_processing.analyzers.plugins.visual import VisualAnalyzer


def analyze(*images):
    analyzer = VisualAnalyzer(models_dir=None)
    analyzer.load()
    return [findings[0].extra for findings in analyzer.analyze([Frame(i, image) for i, image in enumerate(images)])]


def solid(rgb, size=(90, 160)):
    return np.full((*size, 3), rgb, np.uint8)


def test_dominant_colours_and_their_shares():
    image = solid((255, 0, 0))
    image[:, 120:] = (0, 0, 255)  # a quarter blue

    [result] = analyze(image)

    colours = {colour["hex"]: colour["share"] for colour in result["colours"]}
    assert abs(colours["#ff0000"] - 0.75) < 0.02 and abs(colours["#0000ff"] - 0.25) < 0.02


def test_brightness_runs_from_black_to_white():
    black, grey, white = analyze(solid((0, 0, 0)), solid((119, 119, 119)), solid((255, 255, 255)))

    assert black["brightness"] == 0.0 and white["brightness"] == 1.0
    assert 0.45 < grey["brightness"] < 0.55


def test_motion_between_sampled_frames():
    still, moved = solid((20, 20, 20)), solid((20, 20, 20))
    moved[:45] = (230, 230, 230)  # half the picture changes

    first, unchanged, changed = analyze(still, still.copy(), moved)

    assert first["motion"] is None and unchanged["motion"] == 0.0 and changed["motion"] > 0.3
