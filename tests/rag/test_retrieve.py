from pathlib import Path

from index.embed import Embedder
from index.terms import terms
from rag.pipeline import Engine
from rag.settings import Settings

QUESTION = "Which forum did the Armenian mission address in October 2022?"


def test_sentences_read_from_chunk_records_match_the_sentence_collection(
        seed_engine: Engine) -> None:
    """Hit chunks carry their sentences' records: they are the sentence collection's records.
    The document's first sentences (``heads``) come along, verbatim at their offsets."""
    from index import reads

    retriever = seed_engine.retriever("seed")
    view = retriever.view()
    vector = seed_engine.embedder.embed([QUESTION])[0]
    hits = retriever.chunks(view, vector, terms(QUESTION), 4)
    assert hits
    for hit in hits:
        stored = reads.sentences(retriever.store, hit.chunk.sentence_ids)
        assert sorted(stored, key=lambda r: r.index) == list(hit.chunk.sentences)
    new_records = retriever.sentences(view, hits, vector, retriever.nearest(view, vector, 6),
                                      heads=2)
    held = {sid for h in hits for sid in h.chunk.sentence_ids}
    assert held <= {r.sentence.id for r in new_records}
    assert {0, 1} <= {r.sentence.index for r in new_records}
    for r in new_records:
        s = r.sentence
        assert Path(s.source).read_text(encoding="utf-8")[s.start : s.end] == s.text
        assert -1.0 <= r.similarity <= 1.0


def test_sentences_removed_meanwhile_are_left_out(tmp_path: Path, embedder: Embedder) -> None:
    """A run that commits and cleans up while a question is answered may remove the records a
    view still points at: the question gets what is left, never an error."""
    from index.store import SENTENCES

    engine = Engine(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    engine.index([Path("seeds")], "seed")
    retriever = engine.retriever("seed")
    view = retriever.view()
    vector = embedder.embed([QUESTION])[0]
    hits = retriever.chunks(view, vector, terms(QUESTION), 4)
    retriever.store.col(SENTENCES).delete(ids=list(hits[0].chunk.sentence_ids))
    records = retriever.sentences(view, hits[:1], vector, None)
    assert records == []
    assert retriever.sentences(view, hits, vector, None)


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
