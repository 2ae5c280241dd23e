"""``rag index`` killed with SIGKILL mid-run, then run again, ends with a complete index.

The real CLI indexes a folder of 150 files in a subprocess; as soon as its first batch of
records is in the Chroma database (watched read-only through its SQLite file) it is killed,
possibly between writing a batch's chunks and its document records. A second run must finish
the job: every file has its document record, no record is duplicated or orphaned, and the
records are exactly those of a clean build of the same folder in another data folder.

The design under test (index/build.py, index/versions.py, index/lexical.py): a run writes under
a new generation that readers do not see until its commit (the lexical index's folder of that
generation is committed just before the vectors); a document's chunks are written before its
document record; the next run keeps the complete documents of the dead run whose file is
unchanged (their chunks' vectors are kept; their sentences are encoded again for the lexical
index, whose folder of the dead run is gone) and deletes the records that no document record
owns.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from index.build import Indexer
from index.embed import Embedder, Vectors
from index.lexical import LexicalReader
from index.offline import OFFLINE_ENV
from index.segment import split_sentences
from index.settings import IndexSettings
from index.store import DOCS, Store, open_client
from tests.conftest import orphan_versions

ROOT = Path(__file__).resolve().parents[2]
XQUAD = ROOT.parent / "shared" / "data" / "xquad.en.json"
COLLECTION = "crashtest"
FILES = 150
PER_FILE = 4
RUN_TIMEOUT_S = 300.0

WORDS = ("river harbour engine council village market bridge railway museum garden castle "
         "festival mountain library factory island tower forest valley theatre").split()


def real_sentences() -> list[str]:
    """Real text: the shorter sentences (they embed faster) of the XQuAD English paragraphs in
    ../shared/data, in order; generated ones when that file is not there."""
    if XQUAD.exists():
        data = json.loads(XQUAD.read_text(encoding="utf-8"))
        return [s.text for a in data["data"] for p in a["paragraphs"]
                for s in split_sentences(p["context"], "x") if 20 <= len(s.text) <= 150]
    rng = np.random.default_rng(7)
    return [f"The {rng.choice(WORDS)} of {rng.choice(WORDS).title()}ford was built in "
            f"{1700 + int(rng.integers(0, 320))} and has {int(rng.integers(2, 900))} "
            f"{rng.choice(WORDS)}s near the {rng.choice(WORDS)}." for _ in range(PER_FILE * FILES)]


def make_corpus(folder: Path) -> int:
    """150 files of 4 consecutive sentences; returns how many sentences the indexer will see."""
    folder.mkdir(parents=True)
    sentences = real_sentences()
    total = 0
    for i in range(FILES):
        text = " ".join(sentences[i * PER_FILE : (i + 1) * PER_FILE]) + "\n"
        (folder / f"doc-{i:03d}.txt").write_text(text, encoding="utf-8")
        total += len(split_sentences(text, "x"))
    return total


def cli(data: Path, folder: Path, log: Path, before: str = "") -> subprocess.Popen[bytes]:
    """``rag index FOLDER`` in a subprocess; ``before``: Python run first (to stop it at a
    chosen point)."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("RAG_CHROMA_URL", "RAG_COLLECTION", "RAG_SEEDS_DIR")}
    env |= {"RAG_DATA_DIR": str(data), **OFFLINE_ENV}
    # OpenMP threads that spin while they wait slow the encoder several times over when the
    # cores are shared (other tests); passive waiting keeps this test's run time stable
    env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-c", f"{before}\nimport sys\nfrom rag.cli import main\n"
             "sys.exit(main(sys.argv[1:]))", "index", str(folder), "--collection",
             COLLECTION, "--quiet"], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def stored_counts(data: Path) -> dict[str, int]:
    """Records per collection, read from Chroma's SQLite file without opening Chroma (the
    indexer owns it); empty while the database or its tables are not there yet."""
    db = data / "chroma" / "chroma.sqlite3"
    if not db.exists():
        return {}
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True,
                                                timeout=0.2)) as con:
            rows = con.execute(
                "SELECT c.name, COUNT(e.id) FROM embeddings e JOIN segments s "
                "ON e.segment_id = s.id JOIN collections c ON s.collection = c.id "
                "GROUP BY c.name").fetchall()
    except sqlite3.Error:  # being created, or locked by a write: ask again
        return {}
    return {str(name): int(n) for name, n in rows}


def kill_after_first_write(proc: subprocess.Popen[bytes], data: Path, log: Path,
                           before: int = 0) -> dict[str, int]:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"rag index ended (rc {proc.returncode}) before it was killed; "
                        f"make the corpus bigger\n{log.read_text(errors='replace')}")
        counts = stored_counts(data)
        if counts.get(COLLECTION, 0) > before:  # a batch's chunks are written
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
            return stored_counts(data)
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"no records after {RUN_TIMEOUT_S} s\n{log.read_text(errors='replace')}")


class HashEmbedder(Embedder):
    """The real tokenizer (sentences and chunks come out the same), cheap fake vectors: the
    clean build is only compared on ids, texts and metadata."""

    def __init__(self, real: Embedder) -> None:
        super().__init__(real.model_path, real.batch_size)
        self._model = real.model

    def embed(self, texts: Any) -> Vectors:
        out: Vectors = np.zeros((len(texts), 384), dtype=np.float32)
        for i, text in enumerate(texts):
            raw = np.frombuffer(hashlib.sha512(text.encode()).digest() * 12, dtype=np.uint8)
            vector = raw[:384].astype(np.float32) - 127.5
            out[i] = vector / np.linalg.norm(vector)
        return out


def records(store: Store, suffix: str) -> dict[str, tuple[str, dict[str, Any]]]:
    got = store.col(suffix).get(include=["documents", "metadatas"])
    ids = list(got["ids"])
    assert len(ids) == len(set(ids)), f"{store.name}{suffix}: duplicate ids"
    out = {}
    for id_, text, meta in zip(ids, got["documents"], got["metadatas"], strict=True):
        meta = dict(meta)
        meta.pop("indexed_at", None)
        out[id_] = (text, meta)
    return out


def test_killed_run_then_rerun_gives_the_clean_index(tmp_path: Path,
                                                     embedder: Embedder) -> None:
    folder = tmp_path / "corpus"
    sentences = make_corpus(folder)
    assert sentences > 560, "needs more than one batch of 512 sentences to be killed mid-run"
    data, log = tmp_path / "crashed", tmp_path / "rag-index.log"

    after_kill = kill_after_first_write(cli(data, folder, log), data, log)
    assert after_kill.get(COLLECTION, 0) > 0, after_kill

    rerun = cli(data, folder, log)
    assert rerun.wait(timeout=RUN_TIMEOUT_S) == 0, log.read_text(errors="replace")
    summary = re.search(r"(\d+) files \((\d+) indexed, (\d+) unchanged",
                        log.read_text(errors="replace"))
    assert summary, log.read_text(errors="replace")
    files, indexed, unchanged = map(int, summary.groups())
    # the documents the killed run completed are kept, the rest are indexed now: both count as
    # indexed, since neither was committed (the switch comes at the end of a run)
    assert files == FILES and indexed + unchanged == FILES
    assert indexed > 0, f"the killed run had finished: {after_kill}"

    fake = HashEmbedder(embedder)
    clean = Indexer(IndexSettings(data_dir=tmp_path / "clean"), fake)
    report = clean.build([folder], COLLECTION, base=ROOT)
    assert report.indexed == FILES and not report.skipped
    crashed_settings = IndexSettings(data_dir=data)
    client = open_client(crashed_settings)
    store, reference = Store(client, COLLECTION), Store(clean.client, COLLECTION)

    # complete: every file has its document record, with the clean build's content hash
    docs = store.docs()
    assert {s: d.sha256 for s, d in docs.items()} == {
        s: d.sha256 for s, d in reference.docs().items()}
    assert len(docs) == FILES
    # no duplicates, nothing missing, nothing extra: the same records as the clean build
    for suffix in ("", DOCS):
        got, want = records(store, suffix), records(reference, suffix)
        assert store.count(suffix) == reference.count(suffix) == len(want)
        assert got.keys() == want.keys(), (
            f"{suffix or 'chunks'}: {len(got.keys() - want.keys())} extra, "
            f"{len(want.keys() - got.keys())} missing")
        assert got == want, f"{suffix or 'chunks'}: same ids, different texts or metadata"
        if suffix != DOCS:  # one record per (document, position)
            positions = [(m["source"], m["index"]) for _, m in got.values()]
            assert len(positions) == len(set(positions))
    # no orphans: every chunk belongs to a complete document's current version
    assert orphan_versions(store) == set()

    # the vectors are the real ones, in the right records, and the vector index answers
    sample = store.col("").get(limit=6, include=["embeddings"])
    stored = np.asarray(sample["embeddings"], dtype=np.float32)
    near = store.col("").query(query_embeddings=stored.tolist(), n_results=1,
                               include=["distances"])
    assert [i[0] for i in near["ids"]] == list(sample["ids"])
    assert max(d[0] for d in near["distances"]) < 1e-3
    reader = LexicalReader.open(crashed_settings.lexical_dir, COLLECTION, *store.committed())
    assert reader is not None
    chunks = list(reader.records(list(records(store, ""))).values())
    assert len(chunks) == store.count()
    for chunk in chunks[:: max(1, len(chunks) // 24)]:  # each sentence's vector, in order
        fresh = embedder.embed([r.text for r in chunk.sentences])
        assert np.min(np.sum(chunk.vectors * fresh, axis=1)) > 0.999

    # the lexical index holds exactly the committed chunks, as the clean build's does
    assert lexical_ids(store, data) == lexical_ids(reference, tmp_path / "clean") == \
        set(records(store, ""))

    # and a further run finds nothing to do
    again = Indexer(crashed_settings, fake, client).build([folder], COLLECTION, base=ROOT)
    assert (again.indexed, again.unchanged, again.removed) == (0, FILES, 0)
    assert orphan_versions(store) == set()


def lexical_ids(store: Store, data: Path) -> set[str]:
    """The chunk ids of the committed generation's lexical index (it must open: current)."""
    reader = LexicalReader.open(IndexSettings(data_dir=data).lexical_dir, COLLECTION,
                                *store.committed())
    assert reader is not None
    import tantivy

    searcher = tantivy.Index.open(str(reader.folder)).searcher()
    hits = searcher.search(tantivy.Query.all_query(), 100_000).hits
    return {str(searcher.doc(a)["id"][0]) for _, a in hits}


def committed_first(tmp_path: Path, kept: int) -> tuple[Path, Path, Path]:
    """A corpus folder whose first ``kept`` files ``rag index`` committed (generation 1), the
    rest added after; its data folder; and the log. Only subprocesses open the data folder
    until the test reads it (an embedded database does not see another process's commits)."""
    folder = tmp_path / "corpus"
    make_corpus(folder)
    later = tmp_path / "later"
    later.mkdir()
    for file in sorted(folder.iterdir())[kept:]:
        file.rename(later / file.name)
    data, log = tmp_path / "data", tmp_path / "rag-index.log"
    assert cli(data, folder, log).wait(timeout=RUN_TIMEOUT_S) == 0, log.read_text()
    for file in later.iterdir():
        file.rename(folder / file.name)
    return folder, data, log


def fresh_store(data: Path, copy: Path) -> Store:
    """The collection in a copy of ``data``, opened by this process for the first time."""
    shutil.copytree(data, copy)
    return Store(open_client(IndexSettings(data_dir=copy)), COLLECTION)


@pytest.mark.parametrize("when", ["mid-run", "between the two commits"])
def test_a_killed_run_leaves_the_committed_generation_whole(tmp_path: Path, when: str) -> None:
    """SIGKILL while the second run writes, or its death right after the lexical index's
    commit and before the vectors' one: readers keep the first generation, vectors and terms
    alike, and the next run ends with both at the new one."""
    folder, data, log = committed_first(tmp_path, kept=20)
    if when == "mid-run":
        before = stored_counts(data).get(COLLECTION, 0)
        kill_after_first_write(cli(data, folder, log), data, log, before)
    else:
        dies = ("import os\nfrom index.store import Store\n"
                "Store.commit = lambda *args, **kwargs: os._exit(9)")
        assert cli(data, folder, log, dies).wait(timeout=RUN_TIMEOUT_S) == 9, log.read_text()
        assert (data / "lexical" / COLLECTION / "g2" / "VERSION").exists()  # committed, unused
    store = fresh_store(data, tmp_path / "after-kill")
    assert store.committed()[1] == 1
    snapshot = store.snapshot()
    assert len(snapshot.docs) == 20
    got = store.col("").get(include=["metadatas"])
    owned = {i for i, m in zip(got["ids"], got["metadatas"], strict=True) if snapshot.owns(m)}
    assert lexical_ids(store, tmp_path / "after-kill") == owned  # the old generation, whole

    rerun = cli(data, folder, log)
    assert rerun.wait(timeout=RUN_TIMEOUT_S) == 0, log.read_text(errors="replace")
    store = fresh_store(data, tmp_path / "after-rerun")
    assert store.committed()[1] == 2 and len(store.docs()) == FILES
    assert lexical_ids(store, tmp_path / "after-rerun") == set(records(store, ""))
    assert sorted(p.name for p in (data / "lexical" / COLLECTION).iterdir()) == ["g1", "g2"]
