"""The store's typed reads (dense hits, document records) and the lexical index's chunk
records, which hold their sentences' records and vectors."""

from pathlib import Path

import numpy as np
import pytest

from index import reads
from index.build import Indexer
from index.embed import Embedder
from index.lexical import LexicalReader
from index.settings import IndexSettings
from index.store import Store

TEXT = ("The mill stands by the river. It was built in 1820. The miller ground rye there.\n\n"
        "A bridge crosses the river below it. The bridge is made of stone.\n")


@pytest.fixture
def indexer(tmp_path: Path, embedder: Embedder) -> Indexer:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "mill.txt").write_text(TEXT, encoding="utf-8")
    (folder / "inn.txt").write_text("The inn serves soup. Its door is red.\n", encoding="utf-8")
    indexer = Indexer(IndexSettings(data_dir=tmp_path / "data", chunk_tokens=12,
                                    chunk_overlap_tokens=0), embedder)
    indexer.build([folder], "mills", base=folder)
    return indexer


@pytest.fixture
def store(indexer: Indexer) -> Store:
    return Store(indexer.client, "mills")


def lexical_of(indexer: Indexer) -> LexicalReader:
    version, generation = Store(indexer.client, "mills").committed()
    reader = LexicalReader.open(indexer.settings.lexical_dir, "mills", version, generation)
    assert reader is not None
    return reader


def test_nearest_chunks(store: Store) -> None:
    chunks = store.col("").get(include=["embeddings"])
    ids = reads.nearest_chunks(store, np.asarray(chunks["embeddings"][0], np.float32), 2)
    assert len(ids) == 2 and ids[0] == chunks["ids"][0]


def test_chunk_records_hold_their_sentences_and_vectors(indexer: Indexer, store: Store,
                                                        embedder: Embedder) -> None:
    """Each chunk's record gives its sentences verbatim at their offsets, and their vectors:
    the encoder's, stored as float16 (a cosine moves by about 1e-4)."""
    ids = store.col("").get(include=[])["ids"]
    records = lexical_of(indexer).records([*ids, "not-stored"])
    assert sorted(records) == sorted(ids)
    seen = []
    for chunk in records.values():
        assert chunk.vectors.shape == (len(chunk.sentences), embedder.dimension)
        expected = embedder.embed([s.text for s in chunk.sentences])
        assert np.allclose(chunk.vectors, expected, atol=2e-3)
        assert np.allclose((chunk.vectors * expected).sum(axis=1), 1.0, atol=1e-3)
        for s in chunk.sentences:
            text = TEXT if s.source == "mill.txt" else "The inn serves soup. Its door is red.\n"
            assert text[s.start : s.end] == s.text and s.key == chunk.key
            seen.append((s.source, s.index))
    assert sorted(set(seen)) == [("inn.txt", 0), ("inn.txt", 1)] + [
        ("mill.txt", i) for i in range(5)]


def test_the_chunks_that_open_a_document(indexer: Indexer, store: Store) -> None:
    """``heads`` finds the chunks that hold a document's first sentences, by its version."""
    doc = store.docs()["mill.txt"]
    heads = lexical_of(indexer).heads([doc.key, ("gone.txt", "0" * 64)])
    got = sorted(s.index for c in heads.values() for s in c.sentences)
    assert got[:2] == [0, 1] and all(c.source == "mill.txt" for c in heads.values())
    assert lexical_of(indexer).heads([]) == {}


def test_document_records_by_source(store: Store) -> None:
    found = reads.doc_records_named(store, ["inn.txt", "gone.txt"])
    assert [d.source for d in found] == ["inn.txt"]
    assert found[0] == store.docs()["inn.txt"]
