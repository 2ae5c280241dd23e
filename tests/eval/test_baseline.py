"""The LangChain baseline and the embedding cache (real model, real Chroma)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from eval.baseline import LangChainBaseline
from eval.runner import CachingEmbedder
from index.embed import Embedder

DOCS = {
    "tower.txt": " ".join(f"Sentence {i} is filler about nothing much at all." for i in range(40))
    + " The Eiffel Tower is 330 metres tall. " + "It was finished in 1889. " * 3,
    "cats.txt": "Cats sleep a lot. They purr when happy.",
}


def test_baseline_cites_whole_sentences_of_retrieved_chunks(tmp_path: Path,
                                                            embedder: Embedder) -> None:
    baseline = LangChainBaseline(embedder, tmp_path / "chroma")
    assert baseline.index("t-base", DOCS) >= 3  # the long document is split with overlap
    got = baseline.ask("How tall is the Eiffel Tower?", "t-base")
    assert 1 <= len(got.chunks) <= 4
    assert all(DOCS[s][a:b] == t for s, a, b, t in got.citations)
    texts = [t for _, _, _, t in got.citations]
    assert "The Eiffel Tower is 330 metres tall." in texts
    assert len(set(got.citations)) == len(got.citations)
    for source, start, end in got.chunks:  # every cited sentence overlaps a retrieved chunk
        assert 0 <= start < end <= len(DOCS[source])
    assert all(any(src == chunk_src and a < chunk_end and chunk_start < b
                   for chunk_src, chunk_start, chunk_end in got.chunks)
               for src, a, b, _ in got.citations)
    # rebuilding replaces the collection
    assert baseline.index("t-base", {"cats.txt": DOCS["cats.txt"]}) == 1
    assert {c[0] for c in baseline.ask("Why do cats purr?", "t-base").citations} == {"cats.txt"}


def test_caching_embedder_encodes_each_text_once(embedder: Embedder) -> None:
    cached = CachingEmbedder(embedder)
    plain = cached.embed(["a cat", "a dog"])
    with cached.cached():
        again = cached.embed(["a dog", "a cat", "a dog"])
        assert cached.embed([]).shape == (0, embedder.dimension)
    assert np.allclose(again[0], plain[1], atol=1e-5) and np.allclose(again[2], plain[1])
    assert len(cached._cache) == 2 and not cached.caching
    assert cached.max_pieces == embedder.max_pieces
