"""Zero-shot scene classification: the real loading, tokenising, preprocessing and scoring
code, on tiny stand-in CLIP towers and a BPE tokenizer that the test builds.

The stand-in image tower embeds a frame as its mean normalised colour; the text tower
averages token embeddings in which "red", "green" and "blue" point along those colours.
So a red frame must come out "red", through every step the real model takes."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers

from ai_processing.analyzers.base import BrandName, Context, Frame
from ai_processing.analyzers.plugins.scene import SceneAnalyzer

COLOURS = ("red", "green", "blue")
LABELS = (*COLOURS, "grey")


def build_tokenizer(path) -> Tokenizer:
    """A BPE tokenizer shaped like CLIP's: lower case, words, start and end tokens."""
    tokenizer = Tokenizer(models.BPE(unk_token="<|endoftext|>"))
    tokenizer.normalizer = normalizers.Lowercase()
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    trainer = trainers.BpeTrainer(vocab_size=120, special_tokens=["<|startoftext|>", "<|endoftext|>"])
    corpus = [f"a photo of {label}" for label in LABELS] + [f"a photo with the {c} logo" for c in COLOURS]
    tokenizer.train_from_iterator([*corpus, "a photo with no logo"] * 20, trainer=trainer)
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<|startoftext|> $A <|endoftext|>",
        special_tokens=[(t, tokenizer.token_to_id(t)) for t in ("<|startoftext|>", "<|endoftext|>")],
    )
    tokenizer.save(str(path))
    return tokenizer


def build_image_tower(path) -> None:
    pooled = helper.make_node("GlobalAveragePool", ["pixel_values"], ["pooled"])
    flat = helper.make_node("Flatten", ["pooled"], ["image_embeds"])
    graph = helper.make_graph(
        [pooled, flat],
        "image_tower",
        [helper.make_tensor_value_info("pixel_values", TensorProto.FLOAT, ["n", 3, 64, 64])],
        [helper.make_tensor_value_info("image_embeds", TensorProto.FLOAT, ["n", 3])],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def build_text_tower(path, tokenizer: Tokenizer, length="length") -> None:
    table = np.zeros((tokenizer.get_vocab_size(), 3), np.float32)
    for axis, colour in enumerate(COLOURS):
        token = tokenizer.token_to_id(colour)
        assert token is not None, f"the stand-in vocabulary lacks {colour}"
        table[token, axis] = 1.0
    table[tokenizer.token_to_id("grey")] = [-0.2, -0.2, -0.2]  # points away from every colour
    table[tokenizer.token_to_id("no")] = [-0.2, -0.2, -0.2]
    gather = helper.make_node("Gather", ["table", "input_ids"], ["tokens"])
    mean = helper.make_node("ReduceMean", ["tokens"], ["text_embeds"], axes=[1], keepdims=0)  # opset 17
    graph = helper.make_graph(
        [gather, mean],
        "text_tower",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["n", length])],
        [helper.make_tensor_value_info("text_embeds", TensorProto.FLOAT, ["n", 3])],
        initializer=[numpy_helper.from_array(table, "table")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    models_dir = tmp_path_factory.mktemp("clip")
    tokenizer = build_tokenizer(models_dir / "clip-tokenizer.json")
    build_image_tower(models_dir / "clip-image.onnx")
    build_text_tower(models_dir / "clip-text.onnx", tokenizer)
    analyzer = SceneAnalyzer(models_dir)
    assert analyzer.status().state == "ready", analyzer.status().message
    analyzer.load()
    return analyzer


def solid(rgb, size=(120, 200)) -> np.ndarray:
    return np.full((*size, 3), rgb, np.uint8)


def test_frames_get_the_class_whose_prompt_matches_them(scene):
    frames = [Frame(0.0, solid(rgb)) for rgb in [(230, 20, 20), (20, 220, 30), (10, 30, 240)]]

    found = scene.analyze(frames, Context(scene_labels=LABELS))

    assert [findings[0].label for findings in found] == ["red", "green", "blue"]
    for [finding] in found:
        assert finding.kind == "scene" and finding.confidence > 0.5
        assert [top["label"] for top in finding.extra["top"]][0] == finding.label
        assert len(finding.extra["top"]) == 3 and finding.box.w == finding.box.h == 1.0


def test_frames_are_ranked_among_the_owners_brands_and_no_logo(scene):
    brands = (BrandName(7, "red"), BrandName(8, "blue"))
    frames = [Frame(0.0, solid(rgb)) for rgb in [(230, 20, 20), (10, 30, 240), (20, 220, 30)]]

    found = scene.analyze(frames, Context(scene_labels=LABELS, brands=brands))

    red, blue, green = (findings[0].extra["brands"] for findings in found)
    assert (red[0]["brand_id"], red[0]["label"], red[0]["above_no_logo"]) == (7, "red", True)
    assert (blue[0]["brand_id"], blue[0]["above_no_logo"]) == (8, True)
    assert not any(brand["above_no_logo"] for brand in green)  # no brand's colour: "no logo" wins
    assert all(len(findings) == 1 for findings in found)  # no box of its own: exposure never counts it


def test_text_embeddings_are_computed_once_per_set_of_classes(scene, monkeypatch):
    scene.analyze([Frame(0.0, solid((200, 0, 0)))], Context(scene_labels=LABELS))
    calls = []
    encode = scene._encode_text
    monkeypatch.setattr(scene, "_encode_text", lambda prompts: calls.append(prompts) or encode(prompts))

    scene.analyze([Frame(0.0, solid((0, 200, 0)))], Context(scene_labels=LABELS))
    scene.analyze([Frame(0.0, solid((0, 200, 0)))], Context(scene_labels=("red", "blue")))

    assert calls == [["a photo of red", "a photo of blue"]]


def test_without_classes_or_weights_nothing_runs(scene, tmp_path):
    assert scene.analyze([Frame(0.0, solid((1, 2, 3)))], Context()) == [[]]
    status = SceneAnalyzer(tmp_path).status()
    assert status.state == "disabled" and "clip-image.onnx" in status.message


def test_a_text_tower_that_takes_a_fixed_number_of_tokens_gets_them(tmp_path):
    tokenizer = build_tokenizer(tmp_path / "clip-tokenizer.json")
    build_image_tower(tmp_path / "clip-image.onnx")
    build_text_tower(tmp_path / "clip-text.onnx", tokenizer, length=12)  # "a photo of <class>" is 6 tokens
    analyzer = SceneAnalyzer(tmp_path)
    analyzer.load()

    found = analyzer.analyze([Frame(0.0, solid((20, 210, 30)))], Context(scene_labels=LABELS))
    long_label = " ".join(["grey"] * 20)  # cut to 12 tokens, still ending with the end mark
    assert found[0][0].label == "green"
    assert analyzer._encode_text([long_label]).shape == (1, 3)
