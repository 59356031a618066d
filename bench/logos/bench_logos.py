"""bench/logos: the logo analyzer on the generated corpus, against today's matcher.

Prints, per brand of the split: precision, recall (logos >= 64 px, IoU >= 0.3), false
positives per minute on the logo-free frames (2 fps, so 120 frames a minute) and ms per
frame; then the split's totals, recall per condition (reversed, mono, curved, occluded,
blur) and the cost (mean and p95 ms per 720p frame, one core). The same totals for the
matcher at git revision --baseline are printed beside, from the same frames in the same run.

usage: .venv/bin/python bench/logos/bench_logos.py [--split test] [--frames 200]
       [--logo-free 600] [--hard] [--baseline 5af7eb9] [--per-brand]
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import cv2  # noqa: E402
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "backend"))
import corpus  # noqa: E402

cv2.setNumThreads(1)
MIN_PX = 64
IOU = 0.3
FRAMES_PER_MINUTE = 120  # 2 fps


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--split", default="test", choices=sorted(corpus.SPLITS))
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--logo-free", type=int, default=600, help="frames with no logo (600 = 5 min at 2 fps)")
    parser.add_argument("--hard", action="store_true", help="every logo reversed, mono, curved or occluded")
    parser.add_argument("--baseline", default="5af7eb9", help="git revision of the matcher to compare; '' for none")
    parser.add_argument("--per-brand", action="store_true")
    args = parser.parse_args()
    split = corpus.SPLITS[args.split]
    frames = corpus.frames(split, args.frames, hard=args.hard, logo_free=args.logo_free)
    references = corpus.references(split)
    print(
        f"split {split.name}{' (hard)' if args.hard else ''}: {len(split.brands)} brands, {args.frames} frames "
        f"with logos, {args.logo_free} logo-free ({args.logo_free / FRAMES_PER_MINUTE:.1f} min at 2 fps)"
    )
    rows = {"new": _run(_new_detector(references), frames, args.frames)}
    if args.baseline:
        rows[f"at {args.baseline}"] = _run(_baseline_detector(args.baseline, references), frames, args.frames)
    if args.per_brand:
        _per_brand(rows["new"], split)
    header = f"{'detector':<16}{'P':>7}{'R>=64':>7}{'R<64':>7}{'FP/min':>8}{'ms mean':>9}{'ms p95':>8}"
    print(f"\n{header}  recall by condition")
    for name, result in rows.items():
        conditions = " ".join(f"{c}={result.recall(c):.2f}" for c in ("reversed", "mono", "curved", "occluded", "blur"))
        print(
            f"{name:<16}{result.precision():>7.3f}{result.recall():>7.3f}{result.recall(small=True):>7.3f}"
            f"{result.fp_per_minute():>8.2f}{np.mean(result.ms):>9.1f}{np.percentile(result.ms, 95):>8.1f}"
            f"  {conditions}"
        )


class Result:
    def __init__(self) -> None:
        self.tp: dict[str, int] = defaultdict(int)
        self.fp: dict[str, int] = defaultdict(int)
        self.fn: dict[str, int] = defaultdict(int)
        self.by_condition: dict[str, list[bool]] = defaultdict(list)
        self.small: list[bool] = []
        self.free_fp: dict[str, int] = defaultdict(int)
        self.free_frames = 0
        self.ms: list[float] = []

    def precision(self, brand: str | None = None) -> float:
        tp = self.tp[brand] if brand else sum(self.tp.values())
        fp = self.fp[brand] if brand else sum(self.fp.values())
        return tp / (tp + fp) if tp + fp else 1.0

    def recall(self, condition: str | None = None, small: bool = False, brand: str | None = None) -> float:
        if small:
            hits = self.small
        elif brand:
            total = self.tp[brand] + self.fn[brand]
            return self.tp[brand] / total if total else float("nan")
        else:
            hits = self.by_condition[condition or "all"]
        return float(np.mean(hits)) if hits else float("nan")

    def fp_per_minute(self, brand: str | None = None) -> float:
        count = self.free_fp[brand] if brand else sum(self.free_fp.values())
        return count / max(self.free_frames, 1) * FRAMES_PER_MINUTE


def _run(detect, frames: list[corpus.Frame], with_logos: int) -> Result:
    result = Result()
    for index, frame in enumerate(frames):
        started = time.process_time()
        predictions = detect(frame.image)
        result.ms.append((time.process_time() - started) * 1000)
        if index >= with_logos:
            result.free_frames += 1
            for label, _ in predictions:
                result.free_fp[label] += 1
        _score(result, frame, predictions)
    return result


def _score(result: Result, frame: corpus.Frame, predictions: list[tuple[str, tuple]]) -> None:
    pairs = sorted(((corpus._iou(box, logo.box), i, j) for i, (label, box) in enumerate(predictions)
                    for j, logo in enumerate(frame.logos) if logo.slug == label), reverse=True)  # fmt: skip
    used_p, used_t = set(), set()
    for overlap, i, j in pairs:
        if overlap >= IOU and i not in used_p and j not in used_t:
            used_p.add(i)
            used_t.add(j)
    for i, (label, _) in enumerate(predictions):
        if i in used_p:
            result.tp[label] += 1
        else:
            result.fp[label] += 1
    for j, logo in enumerate(frame.logos):
        if logo.distractor:
            continue
        hit = j in used_t
        if logo.width < MIN_PX:
            result.small.append(hit)
            continue
        if not hit:
            result.fn[logo.slug] += 1
        for condition in ("all", *logo.conditions):
            result.by_condition[condition].append(hit)


def _per_brand(result: Result, split: corpus.Split) -> None:
    print(f"\n{'brand':<12}{'P':>7}{'R':>7}{'FP/min':>8}{'TP':>5}{'FP':>5}{'FN':>5}")
    for brand in split.brands:
        print(
            f"{brand:<12}{result.precision(brand):>7.3f}{result.recall(brand=brand):>7.3f}"
            f"{result.fp_per_minute(brand):>8.2f}{result.tp[brand]:>5}{result.fp[brand]:>5}{result.fn[brand]:>5}"
        )


def _new_detector(references: dict[str, list[corpus.Reference]]):
    from ai_processing.analyzers.base import Context, Frame, LogoReference
    from ai_processing.analyzers.plugins.logos import LogosAnalyzer

    analyzer = LogosAnalyzer(models_dir=None)
    analyzer.load()
    logos = tuple(
        LogoReference(brand_id, slug, f"{slug}-{n}", lambda data=ref.data: data)
        for brand_id, (slug, refs) in enumerate(references.items())
        for n, ref in enumerate(refs)
    )
    context = Context(logos=logos, complete=True)  # build every verifier before timing a frame
    started = time.perf_counter()
    analyzer.analyze([Frame(0.0, np.zeros((720, 1280, 3), np.uint8))], context)  # builds what it needs once
    print(f"new: built for {len(references)} brands in {time.perf_counter() - started:.1f} s")

    def detect(image):
        [findings] = analyzer.analyze([Frame(0.0, image)], context)
        h, w = image.shape[:2]
        return [(f.label, (f.box.x * w, f.box.y * h, f.box.w * w, f.box.h * h)) for f in findings]

    return detect


def _baseline_detector(revision: str, references: dict[str, list[corpus.Reference]]):
    """The colour-and-silhouette matcher as it was at `revision`, loaded from git."""
    source = subprocess.run(["git", "show", f"{revision}:backend/ai_processing/analyzers/logo_shapes.py"],
                            cwd=REPO, check=True, capture_output=True, text=True).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "logo_shapes_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("logo_shapes_baseline", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    import io

    from PIL import Image

    templates = []
    for brand_id, (slug, refs) in enumerate(references.items()):
        for ref in refs:
            template = module.template_build(
                brand_id, slug, np.asarray(Image.open(io.BytesIO(ref.data)).convert("RGBA"))
            )
            if template is not None:
                templates.append(template)
    return lambda image: [(m.label, m.box) for m in module.logos_find(image, templates, 0.7)]


if __name__ == "__main__":
    main()
