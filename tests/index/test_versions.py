"""Generations: a run's changes stay hidden until its switch, and a run that dies before or
after it leaves a state the next run completes, keeping the documents it finished."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

import index.build as build
from index.build import Indexer
from index.embed import Embedder, Vectors
from index.lexical import is_current
from index.records import chunk_record
from index.settings import IndexSettings
from index.store import DOCS, Store
from tests.conftest import orphan_versions

A = {
    "bridge.txt": "The bridge opened in 1987. It is 2.5 km long.\n",
    "tower.txt": "The tower is 48 metres tall. Its lamp was first lit in 1902.\n",
    "river.txt": "The river flows into the North Sea. It is about 1,230 kilometres long.\n",
}
B = {
    "bridge.txt": "The bridge opened in 1991. It is 2.5 km long.\n",  # changed
    "river.txt": A["river.txt"],  # unchanged; tower.txt removed
    "museum.txt": "The tram museum opened in 2004. It holds eleven restored trams.\n",  # added
}


class CountingEmbedder(Embedder):
    """The real model; remembers every text it was asked to embed."""

    def __init__(self, real: Embedder) -> None:
        super().__init__(real.model_path, real.batch_size)
        self._model = real.model
        self.texts: list[str] = []

    def embed(self, texts: Sequence[str]) -> Vectors:
        self.texts += list(texts)
        return super().embed(texts)


def write(folder: Path, version: dict[str, str]) -> None:
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.txt"):
        if old.name not in version:
            old.unlink()
    for name, text in version.items():
        (folder / name).write_text(text, encoding="utf-8")


def state(store: Store) -> dict[str, Any]:
    """What a reader sees: committed documents and their texts, and the records they own."""
    snap = store.snapshot()
    got = store.col("").get(include=["documents", "metadatas"])
    chunks = [(i, t, dict(m)) for i, t, m in zip(got["ids"], got["documents"], got["metadatas"],
                                                 strict=True) if snap.owns(m)]
    sentences = {s.text for c in chunks for s in chunk_record(*c).sentences}
    return {"docs": {s: store.doc_text(s) for s in snap.docs},
            "chunks": sorted(t for _, t, _ in chunks), "sentences": sorted(sentences)}


def fully_stored(store: Store) -> None:
    """No record beyond those of the committed documents, in either collection."""
    docs = store.docs()
    assert store.count(DOCS) == len(docs)
    assert store.count() == sum(d.chunks for d in docs.values())
    assert orphan_versions(store) == set()


@pytest.fixture
def setup(tmp_path: Path, embedder: Embedder,
          monkeypatch: pytest.MonkeyPatch) -> tuple[Indexer, CountingEmbedder, Path]:
    monkeypatch.setattr(build, "_BATCH_SENTENCES", 1)  # one write per document
    counting = CountingEmbedder(embedder)
    folder = tmp_path / "docs"
    write(folder, A)
    return Indexer(IndexSettings(data_dir=tmp_path / "data"), counting), counting, folder


def test_a_run_that_dies_before_its_switch_changes_nothing_readers_see(
        setup: tuple[Indexer, CountingEmbedder, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    indexer, counting, folder = setup
    indexer.build([folder], "docs", base=folder)
    store = Store(indexer.client, "docs")
    seen_a = state(store)
    assert "The bridge opened in 1987." in seen_a["sentences"]
    write(folder, B)
    real_commit = Store.commit

    def dies(self: Store, *args: Any) -> None:
        raise RuntimeError("killed")  # after every write and gone mark, before the switch

    monkeypatch.setattr(Store, "commit", dies)
    with pytest.raises(RuntimeError):
        indexer.build([folder], "docs", base=folder)
    assert state(store) == seen_a
    assert orphan_versions(store)  # the new versions are stored, but not committed

    # the next run keeps the complete new versions and switches: their chunks stay as written,
    # their sentences are encoded once more for the lexical index (the dead run's folder of it
    # is gone); no other text is encoded
    monkeypatch.setattr(Store, "commit", real_commit)
    counting.texts.clear()
    report = indexer.build([folder], "docs", base=folder)
    assert (report.indexed, report.unchanged, report.removed) == (2, 1, 1), report
    kept = ["The bridge opened in 1991.", "It is 2.5 km long.",
            "The tram museum opened in 2004.", "It holds eleven restored trams."]
    assert sorted(counting.texts) == sorted(kept)
    seen_b = state(store)
    assert set(seen_b["docs"]) == set(B) and seen_b["docs"]["bridge.txt"] == B["bridge.txt"]
    assert "The bridge opened in 1991." in seen_b["sentences"]
    assert "The bridge opened in 1987." not in seen_b["sentences"]
    fully_stored(store)


def test_a_dead_runs_version_of_a_file_changed_since_is_replaced(
        setup: tuple[Indexer, CountingEmbedder, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    indexer, counting, folder = setup
    indexer.build([folder], "docs", base=folder)
    store = Store(indexer.client, "docs")
    write(folder, B)
    monkeypatch.setattr(Store, "commit", lambda self, *args: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        indexer.build([folder], "docs", base=folder)
    monkeypatch.undo()
    monkeypatch.setattr(build, "_BATCH_SENTENCES", 1)
    changed = "The bridge opened in 1993. It is 2.5 km long.\n"
    (folder / "bridge.txt").write_text(changed, encoding="utf-8")
    counting.texts.clear()
    report = indexer.build([folder], "docs", base=folder)
    assert (report.indexed, report.unchanged, report.removed) == (2, 1, 1), report
    # the changed file is indexed; the dead run's museum is kept (its sentences encoded again
    # for the lexical index only)
    assert sorted(counting.texts) == sorted([
        "The bridge opened in 1993.", "It is 2.5 km long.",
        "The tram museum opened in 2004.", "It holds eleven restored trams."])
    assert store.doc_text("bridge.txt") == changed
    fully_stored(store)


def test_orphan_chunks_are_found_and_removed(
        setup: tuple[Indexer, CountingEmbedder, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that dies after a document's chunks, before its document record: the chunks are
    orphans, which the next run finds by the counts and removes."""
    indexer, _, folder = setup
    real_add = Store.add

    def records_fail(self: Store, suffix: str, *args: Any, **kwargs: Any) -> None:
        if suffix == DOCS:
            raise RuntimeError("killed")
        real_add(self, suffix, *args, **kwargs)

    monkeypatch.setattr(Store, "add", records_fail)
    with pytest.raises(RuntimeError):
        indexer.build([folder], "docs", base=folder)
    store = Store(indexer.client, "docs")
    assert store.count() > 0 and store.count(DOCS) == 0
    orphans = orphan_versions(store)
    assert {source for source, _ in orphans} == {next(iter(sorted(A)))}
    monkeypatch.setattr(Store, "add", real_add)
    report = indexer.build([folder], "docs", base=folder)
    assert report.indexed == 3
    fully_stored(store)


def test_orphans_of_a_run_that_dies_after_a_commit_are_removed_and_only_then_counted(
        setup: tuple[Indexer, CountingEmbedder, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A run that ended cleanly leaves the next one nothing to look for (no count of the
    chunks, which costs a scan at a million); one that dies between a document's chunks and its
    record leaves its mark, and the next run finds and removes the orphans."""
    indexer, _, folder = setup
    indexer.build([folder], "docs", base=folder)
    store = Store(indexer.client, "docs")
    counted: list[str] = []
    real_count = Store.count

    def count(self: Store, suffix: str = "") -> int:
        counted.append(suffix)
        return real_count(self, suffix)

    monkeypatch.setattr(Store, "count", count)
    indexer.build([folder], "docs", base=folder)  # nothing changed
    write(folder, B)
    indexer.build([folder], "docs", base=folder)  # a clean run that changes files
    assert counted == []
    real_add = Store.add

    def records_fail(self: Store, suffix: str, *args: Any, **kwargs: Any) -> None:
        if suffix == DOCS:
            raise RuntimeError("killed")
        real_add(self, suffix, *args, **kwargs)

    (folder / "harbour.txt").write_text("The harbour has 14 berths. It opened in 1911.\n",
                                        encoding="utf-8")
    monkeypatch.setattr(Store, "add", records_fail)
    with pytest.raises(RuntimeError):
        indexer.build([folder], "docs", base=folder)
    assert {source for source, _ in orphan_versions(store)} == {"harbour.txt"}
    monkeypatch.setattr(Store, "add", real_add)
    report = indexer.build([folder], "docs", base=folder)
    assert counted == [""]  # the dead run's mark: the next one counts, and cleans up
    assert report.indexed == 1 and not orphan_versions(store)
    fully_stored(store)


def test_after_a_run_dies_past_its_switch_the_next_one_cleans_up(
        setup: tuple[Indexer, CountingEmbedder, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    indexer, counting, folder = setup
    indexer.build([folder], "docs", base=folder)
    store = Store(indexer.client, "docs")
    write(folder, B)
    real_commit = Store.commit

    def commit_then_die(self: Store, *args: Any) -> None:
        real_commit(self, *args)
        raise RuntimeError("killed")  # before the replaced versions are deleted

    monkeypatch.setattr(Store, "commit", commit_then_die)
    with pytest.raises(RuntimeError):
        indexer.build([folder], "docs", base=folder)
    seen_b = state(store)
    assert set(seen_b["docs"]) == set(B)
    assert store.count(DOCS) == 5  # B's three, and the two it replaced
    # the lexical index of the committed version stays: questions need no repair
    assert is_current(indexer.settings.lexical_dir, "docs", *store.committed())
    monkeypatch.setattr(Store, "commit", real_commit)
    counting.texts.clear()
    report = indexer.build([folder], "docs", base=folder)
    assert (report.indexed, report.unchanged, report.removed) == (0, 3, 0), report
    assert counting.texts == [] and state(store) == seen_b
    fully_stored(store)
