"""The lexical index on disk: written by the indexing run beside the vectors, in the same
generation; updated in place of a rebuild; rebuilt once from Chroma when missing or stale."""

from __future__ import annotations

from pathlib import Path

import pytest
import tantivy

from index import lexical
from index.build import Indexer
from index.embed import Embedder
from index.lexical import LexicalReader, folder_of, stored_version
from index.settings import IndexSettings
from index.store import Store
from index.terms import terms

NAME = "lex"
TEXTS = {
    "harbour.txt": "The harbour of Velmora was dredged in 1911. Its pier holds forty cranes.",
    "mill.txt": "The Quenby mill ground barley for the valley. A flood stopped it in 1952.",
    "tower.txt": "The Ostrel tower leans four degrees. Tourists climb its 212 steps.",
}


def write(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def all_ids(folder: Path) -> set[str]:
    searcher = tantivy.Index.open(str(folder)).searcher()
    hits = searcher.search(tantivy.Query.all_query(), 100_000).hits
    return {str(searcher.doc(address)["id"][0]) for _, address in hits}


def committed(indexer: Indexer) -> tuple[Store, Path, set[str]]:
    """The store, the committed generation's lexical folder, and the committed chunk ids."""
    store = Store(indexer.client, NAME)
    snapshot = store.snapshot()
    got = store.col("").get(include=["metadatas"])
    ids = {i for i, m in zip(got["ids"], got["metadatas"], strict=True) if snapshot.owns(m)}
    return store, folder_of(indexer.settings.lexical_dir, NAME, snapshot.generation), ids


def test_incremental_runs_keep_lexical_and_vector_chunks_in_step(
        tmp_path: Path, embedder: Embedder) -> None:
    docs = tmp_path / "docs"
    write(docs, TEXTS)
    indexer = Indexer(IndexSettings(data_dir=tmp_path / "data"), embedder)
    indexer.build([docs], NAME, base=tmp_path)
    store, first, ids = committed(indexer)
    assert stored_version(first) == store.version()
    assert all_ids(first) == ids and len(ids) == 3

    # add one file, change one, remove one
    write(docs, {"bridge.txt": "The Harnett bridge opened to carts in 1874.",
                 "mill.txt": "The Quenby mill now houses a bakery that sells rye loaves."})
    (docs / "tower.txt").unlink()
    report = indexer.build([docs], NAME, base=tmp_path)
    assert (report.indexed, report.unchanged, report.removed) == (2, 1, 1)
    store, second, ids = committed(indexer)
    assert second != first and stored_version(second) == store.version()
    assert all_ids(second) == ids and len(ids) == 3
    reader = LexicalReader(second)
    assert reader.n == 3
    hit = list(reader.search(terms("bakery rye"), 5))
    assert len(hit) == 1 and hit[0] in ids
    assert reader.search(terms("barley Ostrel"), 5) == {}  # the old mill and the tower are gone
    assert reader.heads([(f"{docs.name}/mill.txt", store.docs()["docs/mill.txt"].sha256)])
    # the unchanged file's segment is shared with the previous generation, not copied
    shared = [p for p in first.iterdir() if p.suffix == ".idx"
              and (second / p.name).exists()]
    assert shared and all(p.stat().st_ino == (second / p.name).stat().st_ino for p in shared)
    # the older generation stays for readers in flight; the one before it is deleted
    indexer.build([docs / "bridge.txt"], NAME, base=tmp_path)  # unchanged: no new generation
    assert sorted(p.name for p in first.parent.iterdir()) == [first.name, second.name]
    write(docs, {"bridge.txt": "The Harnett bridge was rebuilt in stone in 1990."})
    indexer.build([docs], NAME, base=tmp_path)
    _, third, ids = committed(indexer)
    assert sorted(p.name for p in first.parent.iterdir()) == [second.name, third.name]
    assert all_ids(third) == ids


def test_a_missing_or_stale_lexical_index_is_rebuilt_once(tmp_path: Path,
                                                          embedder: Embedder) -> None:
    docs = tmp_path / "docs"
    write(docs, TEXTS)
    settings = IndexSettings(data_dir=tmp_path / "data")
    indexer = Indexer(settings, embedder)
    indexer.build([docs], NAME, base=tmp_path)
    store, folder, ids = committed(indexer)
    assert not indexer.repair(NAME)  # current: nothing to do

    lexical.drop(settings.lexical_dir, NAME)  # a data folder copied without it
    with pytest.raises(Exception, match=r"rag index --repair --collection lex"):
        LexicalReader.open(settings.lexical_dir, NAME, *store.committed())
    assert indexer.repair(NAME)
    assert all_ids(folder) == ids and stored_version(folder) == store.version()
    repaired_as_written(LexicalReader(folder), ids, store, embedder)

    (folder / lexical.VERSION).write_text("an-older-version")  # older than the vectors
    assert not lexical.is_current(settings.lexical_dir, NAME, *store.committed())
    write(docs, {"bridge.txt": "The Harnett bridge opened to carts in 1874."})
    indexer.build([docs], NAME, base=tmp_path)  # any run repairs first, then goes on
    _, folder, ids = committed(indexer)
    assert len(ids) == 4 and all_ids(folder) == ids


def test_rebuild_drops_the_old_lexical_index(tmp_path: Path, embedder: Embedder) -> None:
    docs = tmp_path / "docs"
    write(docs, TEXTS)
    indexer = Indexer(IndexSettings(data_dir=tmp_path / "data"), embedder)
    indexer.build([docs], NAME, base=tmp_path)
    (docs / "tower.txt").unlink()
    indexer.build([docs], NAME, base=tmp_path, rebuild=True)
    store, folder, ids = committed(indexer)
    assert store.committed()[1] == 1 and len(ids) == 2
    assert all_ids(folder) == ids
    assert [p.name for p in folder.parent.iterdir()] == [folder.name]


def repaired_as_written(reader: LexicalReader, ids: set[str], store: Store,
                        embedder: Embedder) -> None:
    """A repaired index holds what a run writes: each chunk's sentences with the encoder's
    vectors, and each document's opening chunks."""
    import numpy as np

    records = reader.records(sorted(ids))
    assert set(records) == ids
    for chunk in records.values():
        fresh = embedder.embed([s.text for s in chunk.sentences])
        assert np.allclose(chunk.vectors, fresh, atol=2e-3)
    for doc in store.docs().values():
        opening = reader.heads([doc.key])
        assert 0 in {s.index for c in opening.values() for s in c.sentences}


def test_a_repair_reads_chroma_page_by_page(tmp_path: Path, embedder: Embedder,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunk records come from Chroma in pages; a sentence two chunks share (on two pages) is
    in both with its vector."""
    import index.repair as repair

    docs = tmp_path / "docs"
    write(docs, TEXTS)
    settings = IndexSettings(data_dir=tmp_path / "data", chunk_tokens=12,
                             chunk_overlap_tokens=6)
    indexer = Indexer(settings, embedder)
    indexer.build([docs], NAME, base=tmp_path)
    store, folder, ids = committed(indexer)
    assert len(ids) > 3
    lexical.drop(settings.lexical_dir, NAME)
    monkeypatch.setattr(repair, "_PAGE", 1)
    assert indexer.repair(NAME)
    repaired_as_written(LexicalReader(folder), ids, store, embedder)


def test_a_run_that_repairs_first_tells_its_progress(tmp_path: Path,
                                                     embedder: Embedder) -> None:
    """A run (e.g. a chat upload) over a collection whose lexical index is missing rebuilds it
    first, and says so to its progress callback."""
    docs = tmp_path / "docs"
    write(docs, TEXTS)
    settings = IndexSettings(data_dir=tmp_path / "data")
    indexer = Indexer(settings, embedder)
    indexer.build([docs], NAME, base=tmp_path)
    lexical.drop(settings.lexical_dir, NAME)
    heard: list[str] = []
    write(docs, {"inn.txt": "The Velmora inn has nine rooms."})
    indexer.build([docs / "inn.txt"], NAME, base=tmp_path,
                  on_progress=lambda share, what: heard.append(what))
    assert any(w.startswith(f"rebuilding the lexical index of {NAME}") for w in heard), heard
    _, folder, ids = committed(indexer)
    assert len(ids) == 4 and all_ids(folder) == ids
