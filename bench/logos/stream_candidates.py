"""bench/logos: every logo candidate of a generated stream, offline (no RTMP, no server).

Decodes `video.flv` of a set made by make_stream.py at 2 fps, builds each reference brand's
verifier as an upload does, and writes per sampled frame the analyzer's findings and every
proposal down to a silhouette of 0.5 with its verifier probability (`candidates.json`), plus
the findings as `pred.json` in the format the sample's scorer reads. Tuning rules that sit
after the proposals (bars, confirmation over time) can then be tried on the candidates in
seconds instead of re-running the analyzer. For the dev split only: report on test streams
through the real pipeline (README, "Logo detection, measured").

usage: .venv/bin/python bench/logos/stream_candidates.py --set /tmp/stream-dev --out /tmp/cand-dev
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
import av  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "backend"))

from ai_processing.analyzers.base import Context, Frame, LogoReference  # noqa: E402
from ai_processing.analyzers.logo_shapes import cut_by_edge, proposals, work_lab  # noqa: E402
from ai_processing.analyzers.logo_verifier import features  # noqa: E402
from ai_processing.analyzers.plugins.logos import REVERSED_MIN_SILHOUETTE, LogosAnalyzer  # noqa: E402

FLOOR = 0.5
RATE = 2.0  # frames analysed a second, as realtime mode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", required=True, type=Path)
    parser.add_argument("--out", required=True, type=Path)
    args = parser.parse_args()
    truth = json.loads((args.set / "truth.json").read_text())
    titles = {b["slug"]: b.get("title", b["slug"]) for b in truth["reference_brands"]}
    logos = tuple(
        LogoReference(
            n, titles[slug], f"{slug}-0", lambda path=args.set / "reference" / f"{slug}.png": path.read_bytes()
        )
        for n, slug in enumerate(titles)
    )
    analyzer = LogosAnalyzer(models_dir=None)
    analyzer.load()
    context = Context(logos=logos, complete=True)
    started = time.perf_counter()
    brands = analyzer._brands(context, {})
    print(f"built {len(brands)} brands in {time.perf_counter() - started:.1f} s", flush=True)
    templates = [t for found, _ in brands.values() for t in found]
    frames, preds, seen = [], [], []
    for t, image in _sampled(args.set / "video.flv"):
        height, width = image.shape[:2]
        findings, seen = analyzer._found(Frame(t, image), brands, seen_before=seen)
        preds += [{"t": t, "label": f.label, "box": [f.box.x, f.box.y, f.box.w, f.box.h], "score": f.confidence}
                  for f in findings]  # fmt: skip
        lab, scale = work_lab(image)
        rows = []
        for p in proposals(lab, templates, FLOOR, REVERSED_MIN_SILHOUETTE):
            if cut_by_edge(p.box, lab.shape):
                continue
            verifier = brands[p.template.brand_id][1]
            probability = p.score if p.printed else float(verifier.probabilities(features(lab, p)))
            x, y, w, h = p.box
            rows.append({
                "label": p.template.label, "silhouette": round(p.score, 3), "verifier": round(probability, 3),
                "printed": p.printed, "widened": p.widened,
                "box": [x / scale / width, y / scale / height, w / scale / width, h / scale / height],
            })  # fmt: skip
        frames.append({"t": t, "candidates": rows})
        print(f"t={t:.1f} findings={len(findings)} candidates={len(rows)}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "candidates.json").write_text(json.dumps({"frames": frames}))
    (args.out / "pred.json").write_text(json.dumps(preds))


def _sampled(path: Path):
    """(t, RGB frame) nearest each 1/RATE s."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        k = 0
        for frame in container.decode(stream):
            t = float(frame.pts * stream.time_base)
            if t + 1e-6 >= k / RATE:
                yield round(t, 4), frame.to_ndarray(format="rgb24")
                k += 1


if __name__ == "__main__":
    main()
