"""The store's typed reads: dense hits, sentence records and vectors, document records."""

from pathlib import Path

import numpy as np
import pytest

from index import reads
from index.build import Indexer
from index.embed import Embedder
from index.records import sentence_record
from index.settings import IndexSettings
from index.store import SENTENCES, Store

TEXT = ("The mill stands by the river. It was built in 1820. The miller ground rye there.\n\n"
        "A bridge crosses the river below it. The bridge is made of stone.\n")


@pytest.fixture
def store(tmp_path: Path, embedder: Embedder) -> Store:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "mill.txt").write_text(TEXT, encoding="utf-8")
    (folder / "inn.txt").write_text("The inn serves soup. Its door is red.\n", encoding="utf-8")
    indexer = Indexer(IndexSettings(data_dir=tmp_path / "data", chunk_tokens=12,
                                    chunk_overlap_tokens=0), embedder)
    indexer.build([folder], "mills", base=folder)
    return Store(indexer.client, "mills")


def test_nearest_chunks_and_sentences(store: Store) -> None:
    chunks = store.col("").get(include=["embeddings"])
    ids = reads.nearest_chunks(store, np.asarray(chunks["embeddings"][0], np.float32), 2)
    assert len(ids) == 2 and ids[0] == chunks["ids"][0]

    stored = store.col(SENTENCES).get(include=["documents", "metadatas", "embeddings"])
    hits = reads.nearest_sentences(store, np.asarray(stored["embeddings"][1], np.float32), 3)
    assert len(hits) == 3 and hits[0].record.id == stored["ids"][1]
    assert hits[0].distance == pytest.approx(0.0, abs=1e-5)
    assert [h.distance for h in hits] == sorted(h.distance for h in hits)
    assert hits[0].record == sentence_record(stored["ids"][1], stored["documents"][1],
                                             dict(stored["metadatas"][1]))


def test_sentence_records_and_vectors(store: Store) -> None:
    heads = reads.head_sentence_ids(store, ["mill.txt"], 2)
    records = reads.sentences(store, [*heads, "not-stored"])
    assert sorted(r.index for r in records) == [0, 1]
    for r in records:
        assert r.source == "mill.txt" and TEXT[r.start : r.end] == r.text
        assert r.key == ("mill.txt", r.doc_sha)
        assert r.prev == ("" if r.index == 0 else "The mill stands by the river.")

    vectors = reads.sentence_vectors(store, heads)
    assert sorted(vectors.ids) == sorted(heads) and vectors.rows.shape[0] == 2
    assert np.allclose(np.linalg.norm(vectors.rows, axis=1), 1.0, atol=1e-4)
    none = reads.sentence_vectors(store, ["not-stored"])
    assert none.ids == () and none.rows.shape[0] == 0


def test_document_records_by_source(store: Store) -> None:
    found = reads.doc_records_named(store, ["inn.txt", "gone.txt"])
    assert [d.source for d in found] == ["inn.txt"]
    assert found[0] == store.docs()["inn.txt"]
