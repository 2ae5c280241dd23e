from pathlib import Path

from index.embed import Embedder
from index.terms import terms
from rag.pipeline import Engine
from rag.settings import Settings

QUESTION = "Which forum did the Armenian mission address in October 2022?"


def test_sentences_come_from_the_hit_and_nearest_chunks(seed_engine: Engine) -> None:
    """The hit chunks' sentences, the sentences of the nearest chunks that are nearest by their
    own vectors, and the document's first sentences (``heads``) come back verbatim at their
    offsets, each with its cosine to the question from its stored vector."""
    import numpy as np

    retriever = seed_engine.retriever("seed")
    view = retriever.view()
    vector = seed_engine.embedder.embed([QUESTION])[0]
    hits, near = retriever.chunks(view, vector, terms(QUESTION), 4, near=12)
    assert hits and len(near) == min(12, view.n)
    records = retriever.sentences(view, hits, near, vector, 6, heads=2)
    held = {sid for h in hits for sid in h.chunk.sentence_ids}
    got = {r.sentence.id: r for r in records}
    assert held <= set(got)
    assert {0, 1} <= {r.sentence.index for r in records}
    cosine = {s.id: float(v @ vector) for c in near for s, v in
              zip(c.sentences, seed_engine.embedder.embed([s.text for s in c.sentences]),
                  strict=True)}
    ranked = sorted(cosine.values(), reverse=True)
    # the 6 nearest, but for a near tie with the 7th (stored vectors are float16)
    assert {sid for sid, v in cosine.items() if v > ranked[6] + 1e-3} <= set(got)
    for r in records:
        s = r.sentence
        assert Path(s.source).read_text(encoding="utf-8")[s.start : s.end] == s.text
        if s.id in cosine:
            assert np.isclose(r.similarity, cosine[s.id], atol=1e-3)
    assert len(records) == len(got)


def test_a_view_reads_its_own_state_when_chunks_go_meanwhile(tmp_path: Path,
                                                           embedder: Embedder) -> None:
    """A run that commits and cleans up while a question is answered may remove the Chroma
    records a view's dense query would find: the view reads its chunks' records and sentences
    from its own lexical index, so the question still gets them, never an error."""
    engine = Engine(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    engine.index([Path("seeds")], "seed")
    retriever = engine.retriever("seed")
    view = retriever.view()
    vector = embedder.embed([QUESTION])[0]
    hits, near = retriever.chunks(view, vector, terms(QUESTION), 4, near=8)
    lexical = set(view.lexical_hits(terms(QUESTION), 4))
    gone = next(h for h in hits if h.id in lexical)
    retriever.store.col("").delete(ids=[gone.id])
    again, _ = retriever.chunks(view, vector, terms(QUESTION), 4, near=8)
    assert gone.id in {h.id for h in again}  # still found by BM25 in the view's index
    records = retriever.sentences(view, [gone], near, vector, 6)
    assert {s.id for s in gone.chunk.sentences} <= {r.sentence.id for r in records}


def test_term_weights_are_the_smoothed_idf_of_the_chunk_texts(seed_engine: Engine) -> None:
    """The view reads term statistics from the lexical index; they equal the ones counted from
    the chunk texts with the same term function (what the first-stage scores expect)."""
    import math
    from collections import Counter

    view = seed_engine.retriever("seed").view()
    got = seed_engine.store("seed").col("").get(include=["documents"])
    df = Counter(t for text in got["documents"] for t in set(terms(text)))
    n = len(got["ids"])
    assert view.n == n and df
    for term, count in df.items():
        assert view.known(term)
        assert math.isclose(view.weight(term), math.log((1 + n) / (1 + count)) + 1)
    assert not view.known("zzzunknownterm")
    assert math.isclose(view.weight("zzzunknownterm"), math.log((1 + n) / 2) + 1)


def test_the_opening_sentences_asked_for_are_within_the_marked_chunks() -> None:
    """Questions about a document read its first sentences from the chunks the lexical index
    marks as its opening: those must cover them."""
    from index.lexical import HEAD_SPAN
    from rag.select import HEAD_SENTENCES

    assert HEAD_SENTENCES <= HEAD_SPAN
