"""The chat in the browser: a thin Gradio layer over :class:`rag.pipeline.Engine`.

All answering and indexing happen in ``rag`` and ``index``; rendering is in :mod:`ui.render`.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from index.errors import ConfigError, IndexingCancelled, RagError
from index.load import SUPPORTED
from rag.pipeline import Engine
from rag.types import Answer
from ui import render
from ui.style import CITATION_CLICK_JS, CSS, DOCUMENT_CLICK_JS, SCROLL_TO_SPAN_JS
from ui.uploads import ingest

log = logging.getLogger(__name__)

Turn = dict[str, Any]
STREAM_STEPS = 12
MAX_SHOWN_TURNS = 50
UPLOAD_POLL_S = 0.5
"""How often an upload's progress is shown."""
"""Older turns stay in the history but leave the page, so it stays light."""
PLACEHOLDER = "Ask a question about the documents. Every claim in the answer cites its sentence."
VIEWER_HINT = ('<div class="viewer-empty">Click a citation or a document to read it here, '
               "with the cited sentence highlighted.</div>")
_views = itertools.count()


def _unexpected(exc: Exception) -> str:
    log.exception("unexpected error in the UI")
    return f"Something went wrong ({type(exc).__name__}); the server log has the details."


def _conversation(turns: list[Turn], extra: str = "") -> str:
    shown = [t["html"] for t in turns[-MAX_SHOWN_TURNS:]]
    if len(turns) > MAX_SHOWN_TURNS:
        shown.insert(0, f'<div class="empty">{len(turns) - MAX_SHOWN_TURNS} earlier questions '
                        "are not shown.</div>")
    return render.render_conversation([*shown, extra], PLACEHOLDER)


def _stream_points(text: str, steps: int = STREAM_STEPS) -> list[int]:
    """Prefix lengths of ``text`` ending at word boundaries, about ``steps`` of them."""
    ends = [i for i, ch in enumerate(text) if ch == " "] + [len(text)]
    stride = max(1, len(ends) // steps)
    return ends[stride - 1 :: stride][:-1]


def _viewer(inner: str) -> str:
    return f'<div class="viewer" data-view="{next(_views)}">{inner}</div>'


class ChatApp:
    """The handlers of the app, bound to one engine."""

    def __init__(self, engine: Engine, collection: str | None = None,
                 stream_delay: float = 0.03) -> None:
        self.engine = engine
        self.collection = collection or engine.settings.collection
        self.stream_delay = stream_delay
        self._cancels: dict[str, threading.Event] = {}
        """The cancel switch of each page's upload under way."""

    def _doc_texts(self, answer: Answer) -> dict[str, str | None]:
        texts: dict[str, str | None] = {}
        for c in answer.citations:
            if c.source not in texts:
                try:
                    texts[c.source] = self.engine.document_text(c.source, answer.collection)
                except RagError:
                    texts[c.source] = None
        return texts

    def chat(self, question: str, turns: list[Turn],
             collection: str) -> Iterator[tuple[str, list[Turn], str]]:
        """Answer ``question``, streaming the answer in; yields (conversation, turns, box)."""
        text = (question or "").strip()
        if not text:
            yield _conversation(turns), turns, ""
            return
        history = [(t["question"], t["answer"]) for t in turns if t.get("answered")]
        asked = render.render_question(text)
        yield _conversation(turns, asked + render.render_pending()), turns, ""
        answer: Answer | None = None
        streamed = getattr(self.engine, "generator", None) is not None
        try:
            if streamed:  # a chat model writes the answer: show its text as it comes
                for item in self.engine.ask_stream(text, history, collection or self.collection):
                    if isinstance(item, Answer):
                        answer = item
                    else:
                        yield _conversation(turns, asked + render.render_partial(item)), turns, ""
            else:
                answer = self.engine.ask(text, history, collection or self.collection)
            if answer is None:
                raise RuntimeError("the answerer gave no answer")
        except RagError as exc:
            error = {"question": text, "html": asked + render.render_error(str(exc))}
            yield _conversation([*turns, error]), [*turns, error], ""
            return
        except Exception as exc:
            error = {"question": text, "html": asked + render.render_error(_unexpected(exc))}
            yield _conversation([*turns, error]), [*turns, error], ""
            return
        index = len(turns)
        for shown in [] if streamed else _stream_points(answer.text):
            partial = render.render_answer(answer, {}, index, shown_chars=shown)
            yield _conversation(turns, asked + partial), turns, ""
            time.sleep(self.stream_delay)
        turn = {
            "question": text, "answer": answer.text, "answered": not answer.refused,
            "collection": answer.collection,
            "citations": render.answer_dict(answer)["citations"],
            "html": asked + render.render_answer(answer, self._doc_texts(answer), index),
        }
        yield _conversation([*turns, turn]), [*turns, turn], ""

    def ask(self, question: str, collection: str = "",
            history: list[list[str]] | None = None) -> dict[str, Any]:
        """The structured answer: question, answer, refused, citations (n, source, start, end,
        text, score). ``history`` holds earlier [question, answer] pairs, oldest first."""
        try:
            answer = self.engine.ask(question, history or [], collection or self.collection)
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
        return render.answer_dict(answer)

    def show_citation(self, turns: list[Turn], evt: gr.EventData) -> str:
        data = getattr(evt, "_data", None) or {}
        try:
            turn, n = turns[int(data["turn"])], int(data["n"])
        except (KeyError, IndexError, TypeError, ValueError):
            return gr.skip()  # type: ignore[no-any-return]
        cited = [c for c in turn.get("citations", []) if c["n"] == n]
        if not cited:
            return gr.skip()  # type: ignore[no-any-return]
        c = cited[0]
        try:
            text = self.engine.document_text(c["source"], turn["collection"])
        except RagError as exc:
            return _viewer(render.render_error(str(exc)))
        if text is None:
            return _viewer(render.render_error(
                f"{c['source']} is no longer in the collection “{turn['collection']}”."))
        start, end = c["start"], c["end"]
        if text[start:end] != c["text"]:  # the document changed since the answer
            start = text.find(c["text"])
            start, end = (None, None) if start < 0 else (start, start + len(c["text"]))
        return _viewer(render.render_document(text, start, end, c["source"]))

    def documents(self, collection: str) -> tuple[str, list[str]]:
        name = collection or self.collection
        try:
            docs = self.engine.documents(name)
        except RagError as exc:
            if name not in self._collections():
                return render.render_documents([], name), []
            return render.render_error(str(exc)), []
        return render.render_documents(docs, name), [str(d["source"]) for d in docs]

    def show_document(self, sources: list[str], collection: str, evt: gr.EventData) -> str:
        data = getattr(evt, "_data", None) or {}
        try:
            source = sources[int(data["doc"])]
            text = self.engine.document_text(source, collection or self.collection)
        except (KeyError, IndexError, TypeError, ValueError):
            return gr.skip()  # type: ignore[no-any-return]
        except RagError as exc:
            return _viewer(render.render_error(str(exc)))
        if text is None:
            return _viewer(render.render_error(f"{source} is no longer in the collection."))
        return _viewer(render.render_document(text, None, None, source))

    def _collections(self) -> list[str]:
        try:
            return self.engine.collections()
        except RagError:
            return []

    def picker(self, collection: str | None = None) -> Any:
        names = sorted({*self._collections(), self.collection})
        return gr.update(choices=names, value=collection or self.collection)

    def upload(
        self, files: list[str] | None, collection: str, request: gr.Request | None = None,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (how Gradio finds the tracker)
    ) -> Iterator[tuple[Any, ...]]:
        """Index uploaded files into ``collection`` in the background, showing a bar that
        moves as their sentences are encoded (questions are answered meanwhile); refusals say
        why; :meth:`cancel_upload` stops it before its next batch."""
        name = collection or self.collection
        paths = [Path(f) for f in files or []]
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
                lines.append(("error", _unexpected(exc)))

        worker = threading.Thread(target=work, name="upload", daemon=True)
        worker.start()
        try:
            while worker.is_alive():
                fraction, what = float(shown["fraction"]), str(shown["what"])
                progress(fraction, desc=what)
                yield render.render_progress(fraction, what), gr.skip(), gr.skip(), gr.skip(), \
                    gr.skip()
                worker.join(UPLOAD_POLL_S)
        finally:  # the page went away or the event was cancelled: stop at the next batch
            if worker.is_alive():
                cancel.set()
                worker.join()
            self._cancels.pop(key, None)
            _discard(paths)
        progress(1.0, desc="Done")
        yield render.render_status(lines), *self.documents(name), self.picker(name), None

    def cancel_upload(self, request: gr.Request | None = None) -> str:
        """Stop this page's upload before its next batch; the collection keeps its state."""
        cancel = self._cancels.get(_session(request))
        if cancel is None:
            return gr.skip()  # type: ignore[no-any-return]
        cancel.set()
        return render.render_progress(0.0, "cancelling ...")


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


def build_app(engine: Engine, collection: str | None = None,
              stream_delay: float = 0.03) -> gr.Blocks:
    """The chat app over ``engine``, answering from ``collection`` (default: the settings')."""
    app = ChatApp(engine, collection, stream_delay)
    types = sorted(SUPPORTED)
    demo = gr.Blocks(title="Cited document Q&A", analytics_enabled=False)
    with demo:
        turns = gr.State([])
        sources = gr.State([])
        gr.HTML("<h2 style='margin:0'>Cited document Q&amp;A</h2><p style='margin:0'>Every "
                "claim cites the exact sentence it rests on; click a citation to see it in "
                "its document.</p>")
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                conversation = gr.HTML(
                    _conversation([]), elem_id="conversation", css_template=CSS,
                    js_on_load=CITATION_CLICK_JS, autoscroll=True, min_height=320,
                    max_height=640, container=True, padding=True)
                with gr.Row():
                    question = gr.Textbox(placeholder="Ask about your documents…", lines=1,
                                          show_label=False, scale=5, elem_id="question",
                                          max_length=engine.settings.max_question_chars)
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                clear = gr.Button("New conversation", size="sm", elem_id="clear")
            with gr.Column(scale=2):
                viewer = gr.HTML(_viewer(VIEWER_HINT), label="Source", show_label=True,
                                 elem_id="viewer", css_template=CSS,
                                 js_on_load=SCROLL_TO_SPAN_JS, max_height=460,
                                 container=True, padding=True)
                picker = gr.Dropdown([app.collection], value=app.collection, label="Collection",
                                     allow_custom_value=True, elem_id="collection",
                                     info="Pick one, or type a new name to upload into it.")
                documents = gr.HTML(elem_id="documents", css_template=CSS,
                                    js_on_load=DOCUMENT_CLICK_JS, max_height=260,
                                    label="Documents", show_label=True, container=True,
                                    padding=True)
                files = gr.File(label=f"Upload {', '.join(types)} "
                                      f"(at most {engine.settings.max_upload_mb:g} MB each)",
                                file_count="multiple", file_types=types, type="filepath",
                                elem_id="upload")
                status = gr.HTML(elem_id="upload-status", css_template=CSS)
                cancel = gr.Button("Cancel upload", size="sm", elem_id="cancel-upload")

        chat_io: dict[str, Any] = {"fn": app.chat, "inputs": [question, turns, picker],
                                   "outputs": [conversation, turns, question],
                                   "show_progress": "hidden"}
        ask.click(api_name="chat", **chat_io)
        question.submit(api_visibility="private", **chat_io)
        clear.click(lambda: (_conversation([]), [], _viewer(VIEWER_HINT)), None,
                    [conversation, turns, viewer], api_visibility="private")
        conversation.click(app.show_citation, [turns], [viewer], api_visibility="private")
        documents.click(app.show_document, [sources, picker], [viewer],
                        api_visibility="private")
        picker.change(app.documents, [picker], [documents, sources], api_visibility="private")
        files.upload(app.upload, [files, picker], [status, documents, sources, picker, files],
                     api_visibility="private", show_progress="minimal")
        cancel.click(app.cancel_upload, None, [status], api_visibility="private",
                     concurrency_limit=None)
        demo.load(lambda: (app.picker(), *app.documents(app.collection)), None,
                  [picker, documents, sources], api_visibility="private")
        gr.api(app.ask, api_name="ask")  # type: ignore[attr-defined]
    return demo


def launch(engine: Engine, host: str | None = None, port: int | None = None,
           collection: str | None = None) -> None:
    """Serve the chat (blocking) on ``host:port``, by default 127.0.0.1:7860 from settings."""
    settings = engine.settings
    engine.store(collection)  # builds the seed collection if missing; fails early otherwise
    demo = build_app(engine, collection)
    demo.queue(default_concurrency_limit=4)
    host, port = host or settings.host, port or settings.port
    try:
        demo.launch(server_name=host, server_port=port,
                    max_file_size=int(settings.max_upload_mb * 1e6), show_error=False,
                    ssr_mode=False, footer_links=["api"], quiet=False)
    except OSError as exc:
        raise ConfigError(f"cannot serve on {host}:{port} ({exc.strerror or exc}): another "
                          "server may hold the port; stop it or pass --port (RAG_PORT)") from exc
