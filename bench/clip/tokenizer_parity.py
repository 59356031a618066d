"""Checks that the CLIP tokenizer fetch_models builds gives the ids of CLIP's reference
SimpleTokenizer, on OpenAI's real vocabulary. Needs network for the source archive and
ftfy + regex for the reference (not project dependencies):

    pip download clip-server==0.8.3 --no-deps --no-binary :all: -d /tmp/clip && pip install ftfy regex
    python bench/clip/tokenizer_parity.py /tmp/clip/clip-server-0.8.3.tar.gz
"""

import importlib.util
import sys
import tarfile
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "backend"))
from ai_processing.clip_tokenizer import clip_tokenizer_build  # noqa: E402

TEXTS = [
    "a photo of a cat", "a photo of news", "A photo of  NEWS broadcast!", "sports: football, basketball & tennis",
    "Coca-Cola's advert 2026", "naïve café déjà vu", "an advertisement", "a cartoon", "the weather forecast map",
    "<|endoftext|> hello", "ÉCLAIR", "e-sports 4K 60fps", "“quoted” text — dash", "日本語のテキスト",
]  # fmt: skip


def main(sdist: str) -> None:
    with tempfile.TemporaryDirectory() as scratch, tarfile.open(sdist) as archive:
        archive.extractall(scratch, filter="data")
        package = next(Path(scratch).glob("clip-server-*/clip_server"))
        source = (package / "model" / "simple_tokenizer.py").read_text()
        source = source.replace(
            "from clip_server.helper import __resources_path__", f"__resources_path__ = {str(package / 'resources')!r}"
        )
        spec = importlib.util.spec_from_loader("simple_tokenizer", loader=None)
        reference_module = importlib.util.module_from_spec(spec)
        exec(source, reference_module.__dict__)
        reference = reference_module.SimpleTokenizer()
        ours = clip_tokenizer_build((package / "resources" / "bpe_simple_vocab_16e6.txt.gz").read_bytes())
    start, end = reference.encoder["<|startoftext|>"], reference.encoder["<|endoftext|>"]
    mismatches = 0
    for text in TEXTS:
        expected = [start, *reference.encode(text), end]
        got = ours.encode(text).ids
        mismatches += got != expected
        print(
            f"{'same' if got == expected else 'DIFFERENT'}  {text!r}: {got}"
            + ("" if got == expected else f" != {expected}")
        )
    print(f"{len(TEXTS) - mismatches}/{len(TEXTS)} texts tokenised as CLIP's SimpleTokenizer does")


if __name__ == "__main__":
    main(sys.argv[1])
