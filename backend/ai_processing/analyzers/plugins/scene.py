"""Zero-shot scene classification with CLIP: the frame's image embedding against the text
embeddings of "a photo of <class>" for the configured classes (SCENE_LABELS), no training.
With the stream owner's brands, the frame is also ranked among "a photo with the <brand>
logo" and "a photo with no logo" (the scene finding's `brands`).

Weights (an ONNX export of CLIP's two towers and its tokenizer, e.g. ViT-B/32):
- `clip-image.onnx`: pixel values N x 3 x H x W (CLIP-normalised) -> image embeddings N x D;
- `clip-text.onnx`: token ids N x L (and an attention mask, if it takes one) -> text embeddings N x D;
  a fixed L (77 in many exports) is padded to;
- `clip-tokenizer.json`: CLIP's BPE tokenizer, for the `tokenizers` library.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

import cv2
import numpy as np

from ai_processing.analyzers.base import NO_CONTEXT, Analyzer, Box, BrandName, Context, Finding, Frame, Kind
from ai_processing.analyzers.onnx import onnx_session

KEY = "scene"
MEAN = np.array([0.48145466, 0.4578275, 0.40821073], np.float32)
STD = np.array([0.26862954, 0.26130258, 0.27577711], np.float32)
LOGIT_SCALE = 100.0  # CLIP's learned temperature
TOP = 3
SCENE_PROMPT = "a photo of {}"
# Brands are told apart from a frame with none of them: "no logo" is a class of its own.
BRAND_PROMPT = "a photo with the {} logo"
NO_BRAND_PROMPT = "a photo with no logo"
WHOLE_FRAME = Box(0.0, 0.0, 1.0, 1.0)


CLIP_CONTEXT = 77  # token positions in CLIP's text tower


class SceneAnalyzer(Analyzer):
    key = KEY
    optional = True  # context for the whole frame, not a sighting: the first to go when analysis is behind
    kinds = (Kind("scene", "Scene", "#c084fc", boxes=False),)
    weights = ("clip-image.onnx", "clip-text.onnx", "clip-tokenizer.json")

    def load(self) -> None:
        from tokenizers import Tokenizer

        self.image_session = onnx_session(self.models_dir / "clip-image.onnx")
        self.text_session = onnx_session(self.models_dir / "clip-text.onnx")
        self.tokenizer = Tokenizer.from_file(str(self.models_dir / "clip-tokenizer.json"))
        shape = self.image_session.get_inputs()[0].shape
        self.side = shape[2] if isinstance(shape[2], int) else 224
        self._prompts: dict[tuple[str, ...], np.ndarray] = {}
        self._lock = threading.Lock()

    def analyze(self, frames: Sequence[Frame], context: Context = NO_CONTEXT) -> list[list[Finding]]:
        labels = context.scene_labels
        if len(labels) < 2 or not frames:
            return [[] for _ in frames]
        scenes = self._text_embeddings(tuple(SCENE_PROMPT.format(label) for label in labels))
        pixels = np.stack([self._pixels(frame.image) for frame in frames])
        images = _unit(self.image_session.run(None, {self.image_session.get_inputs()[0].name: pixels})[0])
        findings = [self._finding(labels, probabilities) for probabilities in _softmax(LOGIT_SCALE * images @ scenes.T)]
        if context.brands:
            brand_prompts = (*(BRAND_PROMPT.format(brand.name) for brand in context.brands), NO_BRAND_PROMPT)
            brands = self._text_embeddings(brand_prompts)
            for finding, probabilities in zip(findings, _softmax(LOGIT_SCALE * images @ brands.T)):
                finding.extra["brands"] = _brands_ranked(context.brands, probabilities)
        return [[finding] for finding in findings]

    def _finding(self, labels: tuple[str, ...], probabilities: np.ndarray) -> Finding:
        order = np.argsort(-probabilities)[:TOP]
        top = [{"label": labels[i], "score": round(float(probabilities[i]), 4)} for i in order]
        return Finding("scene", labels[order[0]], float(probabilities[order[0]]), WHOLE_FRAME, {"top": top})

    def _text_embeddings(self, prompts: tuple[str, ...]) -> np.ndarray:
        """Computed once per set of prompts, then cached (they change with settings and brands)."""
        with self._lock:
            if prompts not in self._prompts:
                self._prompts[prompts] = _unit(self._encode_text(list(prompts)))
            return self._prompts[prompts]

    def _encode_text(self, prompts: list[str]) -> np.ndarray:
        encodings = [encoding.ids for encoding in self.tokenizer.encode_batch(prompts)]
        fixed = self.text_session.get_inputs()[0].shape[1]  # CLIP exports often take exactly 77 tokens
        # A dynamic-length export (Qdrant's) still has CLIP's 77 positions: longer prompts are cut.
        length = fixed if isinstance(fixed, int) else min(CLIP_CONTEXT, max(map(len, encodings)))
        ids = np.zeros((len(prompts), length), np.int64)
        mask = np.zeros((len(prompts), length), np.int64)
        for row, tokens in enumerate(encodings):
            if len(tokens) > length:  # cut, keeping the end mark: CLIP reads the embedding there
                tokens = tokens[: length - 1] + tokens[-1:]
            ids[row, : len(tokens)] = tokens
            mask[row, : len(tokens)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask}
        names = [i.name for i in self.text_session.get_inputs()]
        return self.text_session.run(None, {name: feeds[name] for name in names if name in feeds})[0]

    def _pixels(self, image: np.ndarray) -> np.ndarray:
        """CLIP's preprocessing: shortest side to the model's size (bicubic), centre crop,
        scale to 0..1, normalise; channels first."""
        height, width = image.shape[:2]
        scale = self.side / min(height, width)
        resized = cv2.resize(
            image,
            (max(self.side, round(width * scale)), max(self.side, round(height * scale))),
            interpolation=cv2.INTER_CUBIC,
        )
        top, left = (resized.shape[0] - self.side) // 2, (resized.shape[1] - self.side) // 2
        crop = resized[top : top + self.side, left : left + self.side].astype(np.float32) / 255
        return ((crop - MEAN) / STD).transpose(2, 0, 1)


def _brands_ranked(brands: tuple[BrandName, ...], probabilities: np.ndarray) -> list[dict]:
    """The likeliest brands for the whole frame, each marked whether it beats "no logo".
    It classifies the frame and puts no box on it, so brand exposure does not count it."""
    order = np.argsort(-probabilities[:-1])[:TOP]
    return [
        {
            "brand_id": brands[i].brand_id,
            "label": brands[i].name,
            "score": round(float(probabilities[i]), 4),
            "above_no_logo": bool(probabilities[i] > probabilities[-1]),
        }
        for i in order
    ]


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _softmax(logits: np.ndarray) -> np.ndarray:
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)
