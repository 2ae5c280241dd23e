"""The Documents side of the chat: list, upload, remove and re-index documents, create and
delete collections, and the status line. Every handler checks the collection against the
deployment's :class:`ui.access.Access` first."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from index.errors import IndexingCancelled, RagError
from index.store import check_name
from rag import library
from rag.pipeline import Engine
from rag.types import Answer
from ui import panels, render
from ui.access import Access
from ui.uploads import ingest, upload_dir

log = logging.getLogger(__name__)
UPLOAD_POLL_S = 0.5
"""How often an upload's progress is shown."""


def unexpected(exc: Exception) -> str:
    log.exception("unexpected error in the UI")
    return f"Something went wrong ({type(exc).__name__}); the server log has the details."


class Library:
    """The handlers of the Documents panel, bound to one engine."""

    def __init__(self, engine: Engine, collection: str | None = None,
                 access: Access | None = None) -> None:
        self.engine = engine
        self.access = access or Access()
        self.collection = self.access.default(collection or engine.settings.collection)
        self._cancels: dict[str, threading.Event] = {}
        """The cancel switch of each page's upload under way."""

    def _name(self, collection: str | None) -> str:
        """The collection a request names (default: the app's), checked against the
        deployment's list."""
        return self.access.check(check_name(collection or self.collection))

    def _collections(self) -> list[str]:
        try:
            return [n for n in self.engine.collections() if self.access.allows(n)]
        except RagError:
            return []

    def picker(self, collection: str | None = None) -> Any:
        names = sorted({*self._collections(), self.collection})
        return gr.update(choices=names, value=collection or self.collection)

    def documents(self, collection: str) -> tuple[str, list[str]]:
        try:
            name = self._name(collection)
        except RagError as exc:
            return render.render_error(str(exc)), []
        try:
            docs = self.engine.documents(name)
        except RagError as exc:
            if name not in self._collections():
                return panels.render_documents([], name), []
            return render.render_error(str(exc)), []
        return panels.render_documents(docs, name), [str(d["source"]) for d in docs]

    def document_choices(self, sources: list[str]) -> Any:
        return gr.update(choices=sources, value=None)

    def status_line(self, collection: str, turns: list[dict[str, Any]] | None = None) -> str:
        """The collection, its number of documents, the answerer in use and, when the last
        answer's model fell back, why."""
        try:
            name = self._name(collection)
            count: int | None = len(self.engine.documents(name))
        except RagError:
            name, count = collection or self.collection, None
        last = next((t["record"] for t in reversed(turns or []) if "record" in t), None)
        fallback = last.fallback if isinstance(last, Answer) else None
        return panels.render_status_line(name, count, answerer_name(self.engine), fallback)

    # -- changes -------------------------------------------------------------------------------

    def upload(
        self, files: list[str] | None, collection: str, request: gr.Request | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (how Gradio finds the tracker)
    ) -> Iterator[tuple[Any, ...]]:
        """Index uploaded files into ``collection`` in the background, showing a bar that
        moves as their sentences are encoded (questions are answered meanwhile); refusals say
        why; :meth:`cancel_upload` stops it before its next batch."""
        paths = [Path(f) for f in files or []]
        try:
            self.access.check_changes()
            name = self._name(collection)
        except RagError as exc:
            _discard(paths)
            yield panels.render_status([("error", str(exc))]), gr.skip(), gr.skip(), \
                gr.skip(), None
            return
        if not paths:
            yield "", *self.documents(name), gr.skip(), None
            return
        key = _session(request)
        cancel = self._cancels[key] = threading.Event()
        shown: dict[str, Any] = {"fraction": 0.0, "what": "waiting for the indexer"}
        lines: list[tuple[str, str]] = []

        def moved(fraction: float, what: str) -> None:
            if cancel.is_set():
                raise IndexingCancelled("the upload was cancelled")
            shown.update(fraction=fraction, what=what)

        def work() -> None:
            try:
                lines.extend(ingest(self.engine, [(p, p.name) for p in paths], name, None,
                                    moved))
            except RagError as exc:
                lines.append(("error", str(exc)))
            except Exception as exc:
                lines.append(("error", unexpected(exc)))

        worker = threading.Thread(target=work, name="upload", daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                fraction, what = float(shown["fraction"]), str(shown["what"])
                progress(fraction, desc=what)
                yield panels.render_progress(fraction, what), gr.skip(), gr.skip(), gr.skip(), \
                    gr.skip()
                worker.join(UPLOAD_POLL_S)
        finally:  # the page went away or the event was cancelled: stop at the next batch
            if worker.is_alive():
                cancel.set()
                worker.join()
            self._cancels.pop(key, None)
            _discard(paths)
        progress(1.0, desc="Done")
        yield panels.render_status(lines), *self.documents(name), self.picker(name), None

    def cancel_upload(self, request: gr.Request | None = None) -> str:
        """Stop this page's upload before its next batch; the collection keeps its state."""
        cancel = self._cancels.get(_session(request))
        if cancel is None:
            return gr.skip()  # type: ignore[no-any-return]
        cancel.set()
        return panels.render_progress(0.0, "cancelling ...")

    def remove_document(self, source: str | None, collection: str) -> tuple[str, str, list[str]]:
        """Remove one document; questions see it until the removal commits, then never."""
        def act(name: str) -> str:
            report = library.remove(self.engine, [str(source)], name)
            if not report.removed:
                return f"{source} is not in “{name}” any more."
            return f"Removed {source} from “{name}”."

        return self._change(source, collection, act)

    def reindex_document(self, source: str | None,
                         collection: str) -> tuple[str, str, list[str]]:
        """Index one document's file again (a changed file replaces the document)."""
        def act(name: str) -> str:
            report = library.reindex(self.engine, str(source), name)
            if report.skipped:
                return f"{source}: {report.skipped[0][1]}"
            if not report.indexed:
                return f"{source} is unchanged since it was indexed."
            return f"Re-indexed {source}: {report.sentences} sentences."

        return self._change(source, collection, act)

    def _change(self, source: str | None, collection: str,
                act: Callable[[str], str]) -> tuple[str, str, list[str]]:
        try:
            self.access.check_changes()
            name = self._name(collection)
            if not source:
                return panels.render_status([("error", "Pick a document first.")]), \
                    *self.documents(name)
            line = ("ok", str(act(name)))
        except RagError as exc:
            line, name = ("error", str(exc)), collection
        except Exception as exc:
            line, name = ("error", unexpected(exc)), collection
        return panels.render_status([line]), *self.documents(name)

    def create_collection(self, new: str) -> tuple[str, Any, Any]:
        """Create an empty collection and switch to it (the name box is then cleared)."""
        try:
            self.access.check_changes()
            name = self._name((new or "").strip())
            made = library.create(self.engine, name)
        except RagError as exc:
            return panels.render_status([("error", str(exc))]), gr.skip(), gr.skip()
        said = f"Created the collection “{name}”." if made else f"“{name}” exists already."
        return panels.render_status([("ok", said)]), self.picker(name), ""

    def ask_delete(self, collection: str) -> tuple[Any, str]:
        """Show the confirmation of deleting ``collection`` (nothing is deleted yet)."""
        try:
            self.access.check_changes()
            name = self._name(collection)
            count = len(self.engine.documents(name))
        except RagError as exc:
            return gr.update(visible=False), panels.render_status([("error", str(exc))])
        return gr.update(visible=True), panels.render_confirm_delete(name, count)

    def delete_collection(self, collection: str) -> tuple[str, Any, Any]:
        hidden = gr.update(visible=False)
        try:
            self.access.check_changes()
            name = self._name(collection)
            count = library.delete(self.engine, name)
        except RagError as exc:
            return panels.render_status([("error", str(exc))]), gr.skip(), hidden
        with contextlib.suppress(OSError, RagError):
            shutil.rmtree(upload_dir(self.engine.settings.data_dir, name), ignore_errors=True)
        rest = self._collections()
        shown = self.collection if self.collection in rest or not rest else rest[0]
        said = f"Deleted the collection “{name}” and its {count} document(s)."
        return panels.render_status([("ok", said)]), self.picker(shown), hidden


def answerer_name(engine: Engine) -> str:
    answerer = engine.settings.answerer.strip()
    if answerer.lower() != "extractive":
        return answerer
    return "extractive (trained reader)" if engine.settings.reader else "extractive (rules)"


def _session(request: gr.Request | None) -> str:
    return str(getattr(request, "session_hash", None) or "local")


def _discard(paths: list[Path]) -> None:
    """Delete Gradio's temporary copies of uploaded files (kept, and served by URL, otherwise):
    the saved copy, if any, is under the collection's uploads folder. Only files inside
    Gradio's upload cache are touched."""
    cache = Path(os.environ.get("GRADIO_TEMP_DIR") or Path(tempfile.gettempdir()) / "gradio")
    cache = cache.resolve()
    for path in paths:
        resolved = path.resolve()
        if cache not in resolved.parents:
            continue
        resolved.unlink(missing_ok=True)
        with contextlib.suppress(OSError):  # the per-upload folder, once empty
            resolved.parent.rmdir()
