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
    assert reader.holds((f"{docs.name}/mill.txt", store.docs()["docs/mill.txt"].sha256))
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
