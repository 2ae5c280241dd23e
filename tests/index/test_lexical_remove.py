"""Removing documents and deleting collections keep the lexical index in step with the vectors:
removed documents leave it in the same committed generation, and a deleted collection's
lexical folder goes with it."""

from __future__ import annotations

from pathlib import Path

import pytest

from index import lexical
from index.build import Indexer
from index.embed import Embedder
from index.errors import CollectionNotFound, LexicalIndexMissing
from index.lexical import LexicalReader, folder_of, stored_version
from index.remove import delete_collection, remove_documents
from index.settings import IndexSettings
from index.store import Store
from index.terms import terms
from rag.pipeline import Engine
from rag.settings import Settings
from tests.index.test_lexical import NAME, TEXTS, all_ids, committed, write


@pytest.fixture
def indexer(tmp_path: Path, embedder: Embedder) -> Indexer:
    write(tmp_path / "docs", TEXTS)
    indexer = Indexer(IndexSettings(data_dir=tmp_path / "data"), embedder)
    indexer.build([tmp_path / "docs"], NAME, base=tmp_path)
    return indexer


def test_removed_documents_leave_the_lexical_index_in_the_same_commit(
        indexer: Indexer) -> None:
    settings = indexer.settings
    store, before, _ = committed(indexer)
    mill = store.docs()["docs/mill.txt"]
    report = remove_documents(settings, indexer.client, NAME, ["docs/mill.txt"])
    assert report.removed == ("docs/mill.txt",)

    store, folder, ids = committed(indexer)
    assert folder != before and store.committed()[1] == int(before.name[1:]) + 1
    # the folder of the new generation names the version the vectors committed
    assert stored_version(folder) == store.version()
    assert len(ids) == 2 and all_ids(folder) == ids
    reader = LexicalReader.open(settings.lexical_dir, NAME, *store.committed())
    assert reader is not None and reader.n == 2
    assert reader.search(terms("Quenby mill barley"), 5) == {}
    assert not reader.heads([(mill.source, mill.sha256)])
    assert reader.search(terms("Velmora harbour"), 5)
    # the generation before stays for readers in flight, and still holds the mill
    assert LexicalReader(before).heads([(mill.source, mill.sha256)])


def test_a_question_after_a_removal_reads_the_new_lexical_index(
        tmp_path: Path, indexer: Indexer, embedder: Embedder) -> None:
    """An engine that answered before the removal answers after it (no stale-index error),
    and never from the removed document."""
    engine = Engine(Settings(data_dir=indexer.settings.data_dir), embedder)
    question = "What did the Quenby mill grind?"
    first = engine.ask(question, collection=NAME)
    assert "docs/mill.txt" in {c.source for c in first.candidates}
    remove_documents(indexer.settings, indexer.client, NAME, [str(tmp_path / "docs/mill.txt")])
    after = engine.ask(question, collection=NAME)
    assert "docs/mill.txt" not in {c.source for c in after.candidates}
    assert engine.ask("How many steps does the Ostrel tower have?",
                      collection=NAME).citations[0].source == "docs/tower.txt"


def test_a_removal_on_a_missing_lexical_index_says_to_repair(indexer: Indexer) -> None:
    """A removal never rebuilds the lexical index (that encodes every sentence again): it
    says to run the repair, and changes nothing; after the repair it goes through."""
    settings = indexer.settings
    store, _, before = committed(indexer)
    version = store.version()
    lexical.drop(settings.lexical_dir, NAME)  # a data folder copied without it
    with pytest.raises(LexicalIndexMissing, match="rag index --repair --collection"):
        remove_documents(settings, indexer.client, NAME, ["docs/tower.txt"])
    assert store.version() == version and len(store.docs()) == 3
    assert indexer.repair(NAME)
    remove_documents(settings, indexer.client, NAME, ["docs/tower.txt"])
    store, folder, ids = committed(indexer)
    assert stored_version(folder) == store.version()
    assert len(ids) == 2 and all_ids(folder) == ids and ids < before


def test_a_removal_that_matches_nothing_leaves_the_lexical_index_as_it_was(
        indexer: Indexer) -> None:
    settings = indexer.settings
    store, folder, _ = committed(indexer)
    version = store.version()
    report = remove_documents(settings, indexer.client, NAME, ["nowhere.txt"])
    assert report.removed == () and report.unmatched == ("nowhere.txt",)
    assert store.version() == version and stored_version(folder) == version
    assert sorted(p.name for p in (settings.lexical_dir / NAME).iterdir()) == [folder.name]


def test_deleting_a_collection_deletes_its_lexical_folder(
        tmp_path: Path, indexer: Indexer) -> None:
    settings = indexer.settings
    other = Indexer(settings, indexer.embedder, indexer.client)
    other.build([tmp_path / "docs" / "tower.txt"], "other", base=tmp_path)
    assert (settings.lexical_dir / NAME).is_dir()
    assert delete_collection(settings, indexer.client, NAME) == 3
    assert not (settings.lexical_dir / NAME).exists()
    assert not Store(indexer.client, NAME).exists()
    assert (settings.lexical_dir / "other").is_dir()  # other collections keep theirs
    with pytest.raises(CollectionNotFound):
        delete_collection(settings, indexer.client, NAME)

    # the name made again starts a fresh lexical index: nothing of the deleted one is found
    write(tmp_path / "new", {"bridge.txt": "The Harnett bridge opened to carts in 1874."})
    indexer.build([tmp_path / "new"], NAME, base=tmp_path)
    _, folder, ids = committed(indexer)
    assert folder == folder_of(settings.lexical_dir, NAME, 1)
    assert [p.name for p in folder.parent.iterdir()] == ["g1"]
    assert len(ids) == 1 and all_ids(folder) == ids
    reader = LexicalReader(folder)
    assert reader.search(terms("Velmora harbour Quenby barley"), 5) == {}
    assert list(reader.search(terms("Harnett bridge"), 5)) == list(ids)


def test_an_engine_answers_from_a_collection_deleted_and_made_again(
        tmp_path: Path, indexer: Indexer, embedder: Embedder) -> None:
    from rag import library

    engine = Engine(Settings(data_dir=indexer.settings.data_dir), embedder)
    assert engine.ask("What did the Quenby mill grind?", collection=NAME).citations
    assert library.delete(engine, NAME) == 3
    assert not (indexer.settings.lexical_dir / NAME).exists()
    assert library.create(engine, NAME)
    write(tmp_path / "new", {"bridge.txt": "The Harnett bridge opened to carts in 1874."})
    engine.index([tmp_path / "new"], NAME, base=tmp_path)
    answer = engine.ask("When did the Harnett bridge open?", collection=NAME)
    assert answer.citations and answer.citations[0].source == "new/bridge.txt"
    assert "1874" in answer.text
    assert {c.source for c in engine.ask("What did the Quenby mill grind?",
                                         collection=NAME).candidates} <= {"new/bridge.txt"}
