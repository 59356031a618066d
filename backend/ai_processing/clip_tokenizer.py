"""CLIP's BPE tokenizer for the `tokenizers` library, built from OpenAI's vocabulary file
(`bpe_simple_vocab_16e6.txt.gz`, which CLIP packages ship): the ids of CLIP's own
SimpleTokenizer, without torch or ftfy at run time. The layout is CLIP's: 256 byte symbols,
the same with the end-of-word mark, one token per merge, then the two special tokens."""

from __future__ import annotations

import gzip

from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

MERGES_KEPT = 49152 - 256 - 2  # CLIP uses the first 48,894 merges of the file
START, END = "<|startoftext|>", "<|endoftext|>"
# CLIP cleans text with ftfy first, which straightens curly quotes; the rest of what ftfy
# fixes (mojibake) does not occur in the labels we write.
CURLY_QUOTES = [
    normalizers.Replace(Regex("[\u2018\u2019\u201a\u201b]"), "'"),
    normalizers.Replace(Regex("[\u201c\u201d\u201e\u201f]"), '"'),
]
WORDS = r"""<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


def clip_tokenizer_build(vocabulary_gz: bytes) -> Tokenizer:
    lines = gzip.decompress(vocabulary_gz).decode("utf-8").split("\n")
    merges = [tuple(line.split()) for line in lines[1 : MERGES_KEPT + 1] if line]  # line 0: a version header
    symbols = _byte_symbols()
    vocab = [*symbols, *(symbol + "</w>" for symbol in symbols), *("".join(pair) for pair in merges), START, END]
    ids = {token: index for index, token in enumerate(vocab)}
    tokenizer = Tokenizer(
        models.BPE(vocab=ids, merges=merges, continuing_subword_prefix="", end_of_word_suffix="</w>", unk_token=END)  # type: ignore[arg-type]  # pairs
    )
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.NFC(), *CURLY_QUOTES, normalizers.Replace(Regex(r"\s+"), " "), normalizers.Lowercase()]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(WORDS), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tokenizer.post_processor = processors.RobertaProcessing(  # (sep, cls): the start and end marks
        (END, ids[END]), (START, ids[START]), trim_offsets=False, add_prefix_space=False
    )
    tokenizer.decoder = decoders.ByteLevel()
    tokenizer.add_special_tokens([START, END])  # written in a text, they are the marks themselves
    return tokenizer


def _byte_symbols() -> list[str]:
    """GPT-2's reversible byte-to-character table, in CLIP's order: printable bytes first."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    others = [byte for byte in range(256) if byte not in printable]
    return [chr(byte) for byte in printable] + [chr(256 + index) for index in range(len(others))]
