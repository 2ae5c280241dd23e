"""Build or update a collection: load → sentences → chunks → vectors → Chroma.

Incremental and crash-safe: unchanged files (same content hash) are skipped, changed ones are
replaced, files gone from an indexed folder are removed. Every change is written under the
run's new generation and stays invisible to readers until the run commits it in one write (see
:mod:`index.versions`): a reader sees the whole old state or the whole new one, whenever it
opens. A document's chunks are written before its document record, so a run that
dies leaves only complete documents (the next run keeps them if their file is unchanged) and
records no document owns (the next run deletes them).

Throughput: the sentences of many files are embedded in one call and written in one batch per
collection. Batches start at ``_BATCH_SENTENCES`` sentences and double up to
``_MAX_BATCH_SENTENCES``: each write to Chroma has a fixed cost, and a large run amortizes it.
"""

from __future__ import annotations

import hashlib
import sys
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from index import lexical
from index.chunk import chunk_sentences, fit_sentences, tiktoken_counter
from index.embed import Embedder
from index.errors import SkippedFile
from index.load import SourceNames, discover, load_file, regular_size
from index.lock import collection_lock
from index.records import Prepared, Records, add_document
from index.repair import repair_lexical
from index.scope import gone_sources, run_folders
from index.segment import split_sentences
from index.settings import IndexSettings
from index.store import DOCS, Store, check_name, open_client
from index.versions import Generation

Progress = Callable[[float, str], None]
"""Told the share of a run done (0 to 1) and what it is doing; it may raise (e.g.
:class:`index.errors.IndexingCancelled`) to stop the run before its next batch."""
_BATCH_SENTENCES = 512
_MAX_BATCH_SENTENCES = 4096


@dataclass(frozen=True)
class IndexReport:
    """What one indexing run did."""

    collection: str
    files: int
    indexed: int
    unchanged: int
    removed: int
    skipped: tuple[tuple[str, str], ...]
    sentences: int
    chunks: int
    characters: int
    seconds: float

    def summary(self) -> str:
        lines = [
            f"{self.collection}: {self.files} files ({self.indexed} indexed, {self.unchanged} "
            f"unchanged, {self.removed} removed, {len(self.skipped)} skipped), "
            f"{self.sentences} sentences, {self.chunks} chunks in {self.seconds:.1f} s"
        ]
        lines += [f"  skipped {path}: {reason}" for path, reason in self.skipped]
        return "\n".join(lines)


@dataclass
class _Run:
    gen: Generation
    files: int = 0
    indexed: int = 0
    unchanged: int = 0
    removed: int = 0
    sentences: int = 0
    chunks: int = 0
    characters: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)
    writer: ThreadPoolExecutor | None = None
    roots: dict[str, str] = field(default_factory=dict)
    """The folder each source of this run is named from (two folders may name the same one)."""
    writing: tuple[Future[None], list[Prepared]] | None = None
    """The batch the writer is writing, and its documents."""
    on_progress: Progress | None = None
    position: int = 0
    """Files of the run handled so far (prepared, unchanged or skipped)."""


class Indexer:
    """Turns files into a collection. One writer per collection at a time (a file lock)."""

    def __init__(self, settings: IndexSettings, embedder: Embedder | None = None,
                 client: Any = None) -> None:
        self.settings = settings
        self.embedder = embedder or Embedder.from_settings(settings)
        self._client = client

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = open_client(self.settings)
        return self._client

    def build(self, paths: list[Path], collection: str | None = None, *, rebuild: bool = False,
              progress: bool = False, base: Path | None = None,
              on_progress: Progress | None = None) -> IndexReport:
        """Index ``paths``; ``on_progress`` (if given) hears how far the run is after each
        file and each encoded batch, and may raise to stop it (nothing is committed then)."""
        name = check_name(collection or self.settings.collection)
        names = SourceNames(base or Path.cwd())
        started = time.perf_counter()
        unlisted: list[tuple[str, str]] = []
        files = list(discover(paths, unlisted))
        with collection_lock(self.settings.data_dir, name, on_progress):
            store = Store(self.client, name)
            if rebuild:
                store.drop()
                lexical.drop(self.settings.lexical_dir, name)
            located = [names.locate(file, root) for file, root in files]
            sources = [source for source, _ in located]
            folders = run_folders(paths, names)
            run = _Run(Generation.open(store, sources, folders, self.settings.lexical_dir,
                                       progress, self.embedder.embed, on_progress),
                       files=len(files), skipped=unlisted, on_progress=on_progress)
            try:
                with ThreadPoolExecutor(max_workers=1,
                                        thread_name_prefix="index-writer") as writer:
                    run.writer = writer
                    self._index_files(store, files, located, run, progress)
                self._settle(run)
                gone = gone_sources(paths, names, run.gen.live, set(sources))
                for source in gone:
                    run.gen.remove(source)
                run.removed = len(gone)
                if run.gen.commit(force=rebuild or not run.gen.version):
                    run.gen.cleanup()
            except BaseException:
                run.gen.abandon()
                raise
        return IndexReport(
            collection=name, files=run.files, indexed=run.indexed, unchanged=run.unchanged,
            removed=run.removed, skipped=tuple(run.skipped), sentences=run.sentences,
            chunks=run.chunks, characters=run.characters,
            seconds=time.perf_counter() - started,
        )

    def repair(self, collection: str | None = None, progress: bool = False) -> bool:
        """Rebuild the collection's lexical index from Chroma if it is missing or older than
        the vectors (``rag index --repair``); whether it had to."""
        name = check_name(collection or self.settings.collection)
        with collection_lock(self.settings.data_dir, name):
            store = Store(self.client, name).require()
            return repair_lexical(store, self.settings.lexical_dir, self.embedder.embed,
                                  progress)

    def _index_files(self, store: Store, files: list[tuple[Path, Path]],
                     located: list[tuple[str, str]], run: _Run, progress: bool) -> None:
        """Prepare each file and write the new versions in growing batches; a batch's records
        are written (in the writer thread) while the next batch is encoded."""
        pending: list[Prepared] = []
        waiting, batch = 0, _BATCH_SENTENCES
        bar = _progress(len(files), store.name, progress)
        for (file, _), (source, root) in zip(files, located, strict=True):
            bar.update(1)
            if run.on_progress is not None:
                run.on_progress(run.position / max(1, run.files), f"reading {source}")
            run.position += 1
            owner = _owner(source, root, run)
            if owner is not None:
                run.skipped.append((source, (
                    f"the collection already holds a document of this name from {owner}: rename "
                    "one of the files, index both folders from a folder that holds them (their "
                    "names then differ), or use separate collections")))
                continue
            try:
                item = self._prepare(file, source, root, run)
            except SkippedFile as skip:
                run.gen.drop_pending(source)
                run.skipped.append((skip.path, skip.reason))
                continue
            except Exception as exc:  # one odd file never aborts the run; it says why
                run.gen.drop_pending(source)
                run.skipped.append((source, f"could not be indexed ({type(exc).__name__}: "
                                            f"{exc}): report this file"))
                continue
            if item is None:
                continue
            pending.append(item)
            waiting += len(item.sentences)
            if waiting >= batch:
                self._flush(store, pending, run)
                waiting, batch = 0, min(2 * batch, _MAX_BATCH_SENTENCES)
        self._flush(store, pending, run)
        bar.close()

    def _prepare(self, file: Path, source: str, root: str, run: _Run) -> Prepared | None:
        """The new version of one file, or None when the stored one is current."""
        max_bytes = int(self.settings.max_file_mb * 1e6)
        gen = run.gen
        if source in gen.live or source in gen.pending:
            sha = _file_sha(file, max_bytes)
            kept = gen.keep_pending(source, sha) if sha else None
            if kept is not None:  # written by a run that died before its switch
                run.indexed += 1
                run.sentences += kept.sentences
                run.chunks += kept.chunks
                return None
            known = gen.live.get(source)
            if known is not None and known.sha256 == sha:
                gen.drop_pending(source)
                run.unchanged += 1
                return None
        gen.drop_pending(source)
        doc = load_file(file, source, max_bytes)
        limit = self.embedder.max_pieces
        sentences = split_sentences(doc.text, source)
        pieces = self.embedder.count_pieces_many([s.text for s in sentences])
        if any(p > limit for p in pieces):
            sentences = fit_sentences(sentences, doc.text, limit, self.embedder.count_pieces)
            pieces = self.embedder.count_pieces_many([s.text for s in sentences])
        if not sentences:
            raise SkippedFile(source, "has no sentences")
        count = tiktoken_counter()
        tokens = [count(s.text) for s in sentences]
        chunks = chunk_sentences(sentences, doc.text, self.settings.chunk_tokens,
                                 self.settings.chunk_overlap_tokens, tokens, pieces, limit)
        return Prepared(doc, sentences, chunks, root)

    def _flush(self, store: Store, pending: list[Prepared], run: _Run) -> None:
        """Embed the pending documents' sentences in one batch and hand their records to the
        writer: chunks (in Chroma, then in the lexical index with their sentences' vectors),
        then the document records that mark them complete.
        The previous batch's writes finish first, so at most one batch is in flight."""
        if not pending:
            return
        texts = [s.text for p in pending for s in p.sentences]
        if run.on_progress is None:
            vectors = self.embedder.embed(texts)
        else:
            told = run.on_progress
            first, share = run.position - len(pending), len(pending)
            what = pending[0].doc.source if share == 1 else f"{share} files"

            def encoded(done: int) -> None:
                told((first + share * done / len(texts)) / max(1, run.files),
                     f"encoding {what}: {done:,} of {len(texts):,} sentences")

            vectors = self.embedder.embed_batches(texts, encoded)
        chunks, docs = Records(), Records()
        offset = 0
        for item in pending:
            n = len(item.sentences)
            add_document(item, vectors[offset : offset + n], run.gen.number, chunks, docs)
            offset += n
            run.indexed += 1
            run.sentences += n
            run.chunks += len(item.chunks)
            run.characters += len(item.doc.text)
        self._settle(run)

        lex = run.gen.lexical

        def write() -> None:
            store.add("", chunks.ids, chunks.matrix(), chunks.texts, chunks.metas)
            if lex is not None:
                lex.add(chunks.ids, chunks.texts, chunks.metas, chunks.packed)
            store.add(DOCS, docs.ids, docs.matrix(), docs.texts, docs.metas)

        assert run.writer is not None
        run.writing = run.writer.submit(write), list(pending)
        pending.clear()

    @staticmethod
    def _settle(run: _Run) -> None:
        """Wait for the batch being written (its error is raised here); its documents are then
        written in this generation."""
        if run.writing is None:
            return
        future, items = run.writing
        run.writing = None
        future.result()
        for item in items:
            run.gen.wrote((item.doc.source, item.doc.sha256), len(item.chunks),
                          len(item.sentences))


def _owner(source: str, root: str, run: _Run) -> str | None:
    """The other folder whose document is named ``source`` (same file name, different folder
    outside the working folder), or None when the name is free or this folder's own."""
    known = run.gen.live.get(source)
    if (known is not None and known.root and known.root != root
            and (Path(known.root) / source).exists()):  # a folder moved away frees its names
        return known.root
    claimed = run.roots.setdefault(source, root)
    return claimed if claimed != root else None


def _file_sha(file: Path, max_bytes: int) -> str | None:
    """The content hash of a regular file, or None when it cannot be read within the size
    limit."""
    try:
        if regular_size(file, "") <= max_bytes:
            return hashlib.sha256(file.read_bytes()).hexdigest()
    except (OSError, SkippedFile):
        pass
    return None


def _progress(total: int, name: str, enabled: bool) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, desc=f"indexing {name}", unit="file", file=sys.stderr,
                disable=not enabled, leave=False)


def build_index(paths: list[str | Path], collection: str | None = None, *,
                settings: IndexSettings | None = None, rebuild: bool = False,
                progress: bool = False, embedder: Embedder | None = None) -> IndexReport:
    """Index files and folders into ``collection`` (default: ``settings.collection``)."""
    settings = settings or IndexSettings()
    indexer = Indexer(settings, embedder)
    return indexer.build([Path(p) for p in paths], collection, rebuild=rebuild, progress=progress)
