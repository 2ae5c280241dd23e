import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from index.build import Indexer
from index.embed import Embedder
from index.settings import IndexSettings
from index.store import DOCS, Store
from tests.conftest import orphan_versions

SEED = Path("seeds/azernews-2023-01-23-landmines.txt")


def counts(indexer: Indexer, name: str = "docs") -> tuple[int, int, int]:
    store = Store(indexer.client, name)
    return store.count(), sum(d.sentences for d in store.docs().values()), store.count(DOCS)


@pytest.fixture
def indexer(tmp_path: Path, embedder: Embedder) -> Indexer:
    return Indexer(IndexSettings(data_dir=tmp_path / "data", chunk_tokens=80,
                                 chunk_overlap_tokens=20), embedder)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "seed.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    (root / "notes.md").write_text("# Notes\n\nThe bridge opened in 1987. It is 2.5 km long.\n")
    return root


def test_index_is_idempotent(indexer: Indexer, corpus: Path) -> None:
    first = indexer.build([corpus], "docs")
    assert first.indexed == 2 and first.sentences > 10 and first.chunks >= 3
    before = counts(indexer)
    second = indexer.build([corpus], "docs")
    assert second.indexed == 0 and second.unchanged == 2
    assert counts(indexer) == before
    assert before[2] == 2


def sentences_of(store: Store, source: str) -> list[str]:
    """The texts of a document's sentences, in order, as its chunk records hold them."""
    from index.records import chunk_record

    got = store.col("").get(where={"source": source}, include=["documents", "metadatas"])
    records = {r.index: r.text for i, t, m in zip(got["ids"], got["documents"],
                                                  got["metadatas"], strict=True)
               for r in chunk_record(i, t, dict(m)).sentences}
    return [records[i] for i in sorted(records)]


def test_records_point_at_exact_offsets(indexer: Indexer, corpus: Path) -> None:
    indexer.build([corpus], "docs")
    store = Store(indexer.client, "docs")
    got = store.col("").get(include=["documents", "metadatas"])
    assert got["ids"]
    for text, meta in zip(got["documents"], got["metadatas"], strict=True):
        doc = store.doc_text(str(meta["source"]))
        assert doc is not None and doc[int(meta["start"]) : int(meta["end"])] == text


def test_changed_file_is_replaced_and_removed_file_is_dropped(indexer: Indexer,
                                                              corpus: Path) -> None:
    indexer.build([corpus], "docs")
    (corpus / "notes.md").write_text("# Notes\n\nThe tunnel opened in 2001.\n")
    report = indexer.build([corpus], "docs")
    assert report.indexed == 1 and report.unchanged == 1
    store = Store(indexer.client, "docs")
    texts = sentences_of(store, next(s for s in store.docs() if s.endswith("notes.md")))
    assert texts == ["# Notes", "The tunnel opened in 2001."]
    (corpus / "notes.md").unlink()
    report = indexer.build([corpus], "docs")
    assert report.removed == 1
    assert [s.endswith("seed.txt") for s in store.docs()] == [True]
    assert not store.col("").get(where={"source": {"$ne": next(iter(store.docs()))}})["ids"]


def test_bad_inputs_are_skipped_and_the_rest_is_indexed(indexer: Indexer, corpus: Path) -> None:
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "binary.txt").write_bytes(b"\x00\xff" * 100)
    (corpus / "latin1.txt").write_bytes("caf\u00e9".encode("latin-1"))
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    report = indexer.build([corpus], "docs")
    assert report.indexed == 2
    reasons = dict(report.skipped)
    assert len(reasons) == 4
    assert all(any(name.endswith(f) for name in reasons)
               for f in ("empty.txt", "binary.txt", "latin1.txt", "broken.pdf"))
    assert "skipped" in report.summary()


def test_a_file_is_fully_indexed_or_not_at_all(indexer: Indexer, corpus: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    real_add = Store.add

    def failing_add(self: Store, suffix: str, *args: Any, **kwargs: Any) -> None:
        if suffix == DOCS:
            raise RuntimeError("disk full")  # the crash happens after chunks were written
        real_add(self, suffix, *args, **kwargs)

    monkeypatch.setattr(Store, "add", failing_add)
    with pytest.raises(RuntimeError):
        indexer.build([corpus], "docs")
    store = Store(indexer.client, "docs")
    assert store.docs() == {}  # nothing counts as indexed
    assert orphan_versions(store)  # but partial records exist ...
    monkeypatch.setattr(Store, "add", real_add)
    report = indexer.build([corpus], "docs")  # ... and the next run cleans them up
    assert report.indexed == 2 and not orphan_versions(store)
    first = counts(indexer)
    indexer.build([corpus], "docs", rebuild=True)
    assert counts(indexer) == first


def test_missing_path_fails_before_anything_is_written(indexer: Indexer, tmp_path: Path) -> None:
    from index.errors import PathNotFound

    with pytest.raises(PathNotFound):
        indexer.build([tmp_path / "missing"], "docs")


def test_invalid_collection_name_is_refused(indexer: Indexer, corpus: Path) -> None:
    from index.errors import InvalidCollectionName

    with pytest.raises(InvalidCollectionName, match="3-60 characters"):
        indexer.build([corpus], "../x")


def test_each_chunk_holds_its_sentence_records(indexer: Indexer, corpus: Path) -> None:
    """Readers take a hit chunk's sentences out of the chunk record: together the chunks give
    every sentence of each document once, verbatim at its offsets, with the end of the
    sentence before it; a sentence two chunks share has the same record in both."""
    from index.records import PREV_CHARS, chunk_record

    indexer.build([corpus], "docs")
    store = Store(indexer.client, "docs")
    chunks = store.col("").get(include=["documents", "metadatas"])
    by_id: dict[str, object] = {}
    for id_, text, meta in zip(chunks["ids"], chunks["documents"], chunks["metadatas"],
                               strict=True):
        chunk = chunk_record(id_, text, dict(meta))
        assert chunk.sentence_ids == tuple(r.id for r in chunk.sentences)
        for record in chunk.sentences:
            assert by_id.setdefault(record.id, record) == record
    for source, doc in store.docs().items():
        text = store.doc_text(source)
        assert text is not None
        records = sorted((r for r in by_id.values() if r.source == source),  # type: ignore
                         key=lambda r: r.index)
        assert [r.index for r in records] == list(range(doc.sentences))
        for before, record in zip([None, *records], records, strict=False):
            assert text[record.start : record.end] == record.text
            assert record.prev == ("" if before is None else before.text[-PREV_CHARS:])


def test_a_run_reads_only_the_records_it_needs(indexer: Indexer, corpus: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """After the first run, a run over a folder reads the records of its files and folder by
    query, never all of them: removed files are still found, unchanged ones still skipped."""
    other = corpus.parent / "other"
    other.mkdir()
    (other / "far.txt").write_text("The ferry leaves at noon. It returns at six.\n")
    indexer.build([corpus, other], "docs", base=corpus.parent)

    def full_scan(self: Store) -> None:
        raise AssertionError("a run over a folder read every document record")

    monkeypatch.setattr(Store, "doc_records", full_scan)
    (corpus / "notes.md").unlink()
    (corpus / "new.txt").write_text("The lighthouse was built in 1890.\n")
    report = indexer.build([corpus], "docs", base=corpus.parent)
    assert (report.indexed, report.unchanged, report.removed) == (1, 1, 1)
    monkeypatch.undo()
    store = Store(indexer.client, "docs")
    assert sorted(store.docs()) == ["corpus/new.txt", "corpus/seed.txt", "other/far.txt"]
    state = store.state()
    docs = store.docs().values()
    assert (state["chunks"], state["sentences"]) == (store.count(),
                                                     sum(d.sentences for d in docs))


def written_by_an_older_version(store: Store) -> None:
    """Make the committed state look as an older version left it: no format named."""
    state = store.state()
    store.col(DOCS).modify(metadata={k: v for k, v in state.items() if k != "format"}
                           | {"scoped": True})


def test_a_collection_an_older_version_wrote_is_refused_until_rebuilt(
        indexer: Indexer, corpus: Path) -> None:
    """A committed state that names no format was written by an older version: readers and
    runs get an error saying to rebuild it (never read it another way); a rebuild makes it
    current, and such a collection can still be deleted."""
    from index.errors import OlderCollection
    from index.remove import delete_collection, remove_documents
    from index.store import FORMAT

    indexer.build([corpus], "docs")
    store = Store(indexer.client, "docs")
    assert store.state()["format"] == FORMAT
    written_by_an_older_version(store)
    attempts: list[Callable[[], object]] = [
        store.snapshot, store.version, lambda: store.document("corpus/seed.txt"),
        lambda: indexer.build([corpus], "docs"), lambda: indexer.repair("docs"),
        lambda: remove_documents(indexer.settings, indexer.client, "docs", ["corpus"])]
    for attempt in attempts:
        with pytest.raises(OlderCollection, match=r"older version.*--rebuild --collection docs"):
            attempt()
    report = indexer.build([corpus], "docs", rebuild=True)
    assert report.indexed == 2
    store = Store(indexer.client, "docs")
    assert store.state()["format"] == FORMAT and len(store.docs()) == 2
    assert indexer.build([corpus], "docs").unchanged == 2

    written_by_an_older_version(store)
    assert delete_collection(indexer.settings, indexer.client, "docs") == 0
    assert not store.exists()
    assert not (indexer.settings.lexical_dir / "docs").exists()


def test_only_records_without_a_committed_format_are_refused(indexer: Indexer) -> None:
    """A new collection has no state until its first commit names the format; records a first
    run left before its commit (they carry their generation) are not refused, records from
    before collections had versions (no generation, no state) are."""
    from index.errors import OlderCollection
    from index.store import FORMAT

    record = {"source": "a.txt", "doc_sha": "f00", "kind": "text", "sentences": 1,
              "chunks": 1, "indexed_at": 0.0, "pages": "[]"}
    unfinished = Store(indexer.client, "unfinished")
    unfinished.col(DOCS).add(ids=["d"], embeddings=[[1.0, 0.0]], documents=["A."],
                             metadatas=[record | {"generation": 1, "gone": 2**62,
                                                 "dirs": ["."], "root": "/x"}])
    assert unfinished.state() == {} and unfinished.committed() == ("", 0)
    indexer.build([], "unfinished")
    assert unfinished.state()["format"] == FORMAT

    old = Store(indexer.client, "old")
    old.col(DOCS).add(ids=["d"], embeddings=[[1.0, 0.0]], documents=["A."], metadatas=[record])
    with pytest.raises(OlderCollection):
        old.committed()


def test_folders_outside_the_working_folder_keep_each_others_documents(
        indexer: Indexer, tmp_path: Path) -> None:
    """Sources of a folder outside the working folder are named relative to that folder:
    re-indexing one such folder removes its own deleted files, never another folder's."""
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "x.txt").write_text("The bridge opened in 1987.\n")
    (one / "y.txt").write_text("The tunnel opened in 2001.\n")
    (two / "z.txt").write_text("The ferry leaves at noon.\n")
    indexer.build([one], "docs")
    assert indexer.build([two], "docs").removed == 0
    store = Store(indexer.client, "docs")
    assert sorted(store.docs()) == ["x.txt", "y.txt", "z.txt"]
    (one / "y.txt").unlink()
    assert indexer.build([one], "docs").removed == 1
    assert sorted(store.docs()) == ["x.txt", "z.txt"]


def test_same_file_name_in_two_outside_folders_is_skipped_not_replaced(
        indexer: Indexer, tmp_path: Path) -> None:
    """Two folders outside the working folder both name their file ``notes.txt``: the second
    is skipped with a reason that says what to do, and the first keeps its document."""
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    two.mkdir()
    (one / "notes.txt").write_text("The bridge opened in 1987.\n")
    (two / "notes.txt").write_text("The ferry leaves at noon.\n")
    indexer.build([one], "docs")
    report = indexer.build([two], "docs")
    assert report.indexed == 0 and report.removed == 0
    assert [path for path, _ in report.skipped] == ["notes.txt"]
    assert str(one.resolve()) in report.skipped[0][1]
    store = Store(indexer.client, "docs")
    assert store.doc_text("notes.txt") == "The bridge opened in 1987.\n"
    assert indexer.build([one], "docs").unchanged == 1

    both = indexer.build([one, two], "both")
    assert both.indexed == 1 and [path for path, _ in both.skipped] == ["notes.txt"]
    assert Store(indexer.client, "both").doc_text("notes.txt") == "The bridge opened in 1987.\n"


def test_a_folder_moved_away_frees_its_names(indexer: Indexer, tmp_path: Path) -> None:
    """Once the folder a document came from is gone, another folder's file of that name is
    indexed (the skip above protects only documents whose file still exists)."""
    one, two = tmp_path / "one", tmp_path / "two"
    one.mkdir()
    (one / "notes.txt").write_text("The bridge opened in 1987.\n")
    indexer.build([one], "docs")
    one.rename(two)
    (two / "notes.txt").write_text("The ferry leaves at noon.\n")
    report = indexer.build([two], "docs")
    assert report.indexed == 1 and not report.skipped
    assert Store(indexer.client, "docs").doc_text("notes.txt") == "The ferry leaves at noon.\n"


MALFORMED_PDF = (  # pypdf raises NotImplementedError: an encryption handler it does not know
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages "
    b"/Kids [] /Count 0 >>\nendobj\nxref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n"
    b"0000000058 00000 n \ntrailer\n<< /Root 1 0 R /Size 3 /Encrypt << /Filter /Unknown /V 1 >> "
    b"/ID [<01> <01>] >>\nstartxref\n110\n%%EOF\n")


def test_odd_files_are_skipped_with_a_reason_and_the_run_goes_on(indexer: Indexer,
                                                                 tmp_path: Path) -> None:
    root = tmp_path / "odd"
    root.mkdir()
    (root / "good.txt").write_text("The bridge opened in 1987. It has two lanes.")
    (root / "broken.pdf").write_bytes(MALFORMED_PDF)
    (root / "loop.txt").symlink_to("loop.txt")  # a link to itself
    latin1 = os.fsdecode(bytes(root) + b"/caf\xe9.txt")  # a name that is not UTF-8
    Path(latin1).write_text("The tunnel opened in 2001.")
    report = indexer.build([root], "odd")
    assert report.indexed == 2, report.summary()
    reasons = dict(report.skipped)
    assert "not a readable PDF" in reasons["broken.pdf"]
    assert "cannot be read" in reasons["loop.txt"]
    assert set(Store(indexer.client, "odd").docs()) == {"good.txt", "caf\\xe9.txt"}
    again = indexer.build([root], "odd")  # the name's id is stable: unchanged, not re-indexed
    assert again.unchanged == 2 and again.indexed == 0


def test_a_named_pipe_is_skipped_instead_of_read_forever(indexer: Indexer,
                                                         tmp_path: Path) -> None:
    root = tmp_path / "pipes"
    root.mkdir()
    (root / "good.txt").write_text("The bridge opened in 1987.")
    os.mkfifo(root / "x.txt")
    reports: list[Any] = []
    worker = threading.Thread(target=lambda: reports.append(indexer.build([root], "pipes")),
                              daemon=True)
    worker.start()
    worker.join(120)
    assert not worker.is_alive(), "indexing hangs reading a named pipe"
    (report,) = reports
    assert report.indexed == 1 and "not a regular file" in dict(report.skipped)["x.txt"]


def test_waiting_for_another_indexer_says_so(indexer: Indexer, corpus: Path,
                                             caplog: pytest.LogCaptureFixture) -> None:
    import fcntl

    lock = indexer.settings.data_dir / "locks" / "docs.lock"
    lock.parent.mkdir(parents=True)
    with lock.open("w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # another run holds the collection
        worker = threading.Thread(target=indexer.build, args=([corpus], "docs"), daemon=True)
        with caplog.at_level("WARNING"):
            worker.start()
            for _ in range(300):
                if "waiting for another indexing run" in caplog.text:
                    break
                time.sleep(0.1)
            said = caplog.text
        fcntl.flock(held, fcntl.LOCK_UN)
    worker.join(120)
    assert "waiting for another indexing run of the collection docs" in said
    assert counts(indexer)[2] == 2  # then it ran
