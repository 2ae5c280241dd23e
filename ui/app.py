"""The chat in the browser: a thin Gradio layer over :class:`rag.pipeline.Engine`.

All answering and indexing happen in ``rag`` and ``index``; the handlers are in
:mod:`ui.chat` and :mod:`ui.library`, rendering in :mod:`ui.render` and :mod:`ui.panels`, who
may do what in :mod:`ui.access`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

import gradio as gr

from index.errors import ConfigError, RagError
from index.load import SUPPORTED
from rag.pipeline import Engine
from ui.access import Access, check_exposure, logins
from ui.chat import VIEWER_HINT, ChatApp, conversation, viewer
from ui.style import CITATION_CLICK_JS, CSS, DOCUMENT_CLICK_JS, SCROLL_TO_SPAN_JS

log = logging.getLogger(__name__)

__all__ = ["ChatApp", "build_app", "launch"]

PRIVATE: dict[str, Any] = {"api_visibility": "private"}


def build_app(engine: Engine, collection: str | None = None, stream_delay: float = 0.03,
              access: Access | None = None) -> gr.Blocks:
    """The chat app over ``engine``, answering from ``collection`` (default: the settings');
    ``access`` limits the collections it serves and may make it read-only."""
    app = ChatApp(engine, collection, stream_delay, access)
    demo = gr.Blocks(title="Cited document Q&A", analytics_enabled=False)
    with demo:
        turns = gr.State([])
        sources = gr.State([])
        gr.HTML("<h2 style='margin:0'>Cited document Q&amp;A</h2><p style='margin:0'>Every "
                "claim cites the exact sentence it rests on; click a citation to see it in "
                "its document.</p>")
        status_line = gr.HTML(elem_id="status-line", css_template=CSS)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                shown = gr.HTML(
                    conversation([]), elem_id="conversation", css_template=CSS,
                    js_on_load=CITATION_CLICK_JS, autoscroll=True, min_height=320,
                    max_height=640, container=True, padding=True)
                with gr.Row():
                    question = gr.Textbox(placeholder="Ask about your documents…", lines=1,
                                          show_label=False, scale=5, elem_id="question",
                                          max_length=engine.settings.max_question_chars)
                    ask = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                with gr.Row():
                    clear = gr.Button("New conversation", size="sm", elem_id="clear")
                    download = gr.DownloadButton("Download conversation", size="sm",
                                                 elem_id="download")
            with gr.Column(scale=2):
                view = gr.HTML(viewer(VIEWER_HINT), label="Source", show_label=True,
                               elem_id="viewer", css_template=CSS, js_on_load=SCROLL_TO_SPAN_JS,
                               max_height=460, container=True, padding=True)
                picker = gr.Dropdown([app.collection], value=app.collection, label="Collection",
                                     allow_custom_value=app.access.uploads,
                                     elem_id="collection",
                                     info="Pick one, or type a new name to upload into it."
                                     if app.access.uploads else None)
                documents = gr.HTML(elem_id="documents", css_template=CSS,
                                    js_on_load=DOCUMENT_CLICK_JS, max_height=260,
                                    label="Documents", show_label=True, container=True,
                                    padding=True)
                status = gr.HTML(elem_id="upload-status", css_template=CSS)
                if app.access.uploads:
                    _manage(app, engine, picker, documents, sources, status, status_line, turns)

        after = {"fn": app.status_line, "inputs": [picker, turns], "outputs": [status_line],
                 **PRIVATE}
        chat_io: dict[str, Any] = {"fn": app.chat, "inputs": [question, turns, picker],
                                   "outputs": [shown, turns, question],
                                   "show_progress": "hidden"}
        for event in (ask.click(api_name="chat", **chat_io),
                      question.submit(**chat_io, **PRIVATE)):
            event.then(app.export, [turns], [download], **PRIVATE).then(**after)
        clear.click(lambda: (conversation([]), [], viewer(VIEWER_HINT), None), None,
                    [shown, turns, view, download], **PRIVATE).then(**after)
        shown.click(app.show_citation, [turns], [view], **PRIVATE)
        documents.click(app.show_document, [sources, picker], [view], **PRIVATE)
        picker.change(app.documents, [picker], [documents, sources], **PRIVATE).then(**after)
        demo.load(lambda: (app.picker(), *app.documents(app.collection)), None,
                  [picker, documents, sources], **PRIVATE).then(**after)
        gr.api(app.ask, api_name="ask")  # type: ignore[attr-defined]
    return demo


def _manage(app: ChatApp, engine: Engine, picker: Any, documents: Any, sources: Any,
            status: Any, status_line: Any, turns: Any) -> None:
    """The controls that change collections: remove or re-index a document, upload, create
    and delete a collection (deleting asks to confirm)."""
    after = {"fn": app.status_line, "inputs": [picker, turns], "outputs": [status_line],
             **PRIVATE}
    choices = {"fn": app.document_choices, "inputs": [sources], **PRIVATE}
    with gr.Row(equal_height=True):
        chosen = gr.Dropdown([], label="Document", elem_id="doc-pick", scale=3)
        with gr.Column(scale=1, min_width=110):
            remove = gr.Button("Remove", size="sm", variant="stop", elem_id="remove-doc")
            reindex = gr.Button("Re-index", size="sm", elem_id="reindex-doc")
    types = sorted(SUPPORTED)
    files = gr.File(label=f"Upload {', '.join(types)} "
                          f"(at most {engine.settings.max_upload_mb:g} MB each)",
                    file_count="multiple", file_types=types, type="filepath",
                    elem_id="upload")
    cancel = gr.Button("Cancel upload", size="sm", elem_id="cancel-upload")
    with gr.Row(equal_height=True):
        new = gr.Textbox(placeholder="new collection name", show_label=False, scale=3,
                         elem_id="new-collection")
        with gr.Column(scale=1, min_width=110):
            create = gr.Button("Create collection", size="sm", elem_id="create-collection")
            delete = gr.Button("Delete this collection", size="sm", variant="stop",
                               elem_id="delete-collection")
    with gr.Column(visible=False, elem_id="confirm-delete") as confirm:
        question = gr.HTML(css_template=CSS)
        with gr.Row():
            yes = gr.Button("Yes, delete it", variant="stop", size="sm", elem_id="confirm-yes")
            no = gr.Button("Keep it", size="sm", elem_id="confirm-no")

    sources.change(outputs=[chosen], **choices)
    for button, handler in ((remove, app.remove_document), (reindex, app.reindex_document)):
        button.click(handler, [chosen, picker], [status, documents, sources],
                     **PRIVATE).then(**after)
    files.upload(app.upload, [files, picker], [status, documents, sources, picker, files],
                 show_progress="minimal", **PRIVATE).then(**after)
    cancel.click(app.cancel_upload, None, [status], concurrency_limit=None, **PRIVATE)
    create.click(app.create_collection, [new], [status, picker, new], **PRIVATE)
    delete.click(app.ask_delete, [picker], [confirm, question], **PRIVATE)
    yes.click(app.delete_collection, [picker], [status, picker, confirm], **PRIVATE)
    no.click(lambda: gr.update(visible=False), None, [confirm], **PRIVATE)


def launch(engine: Engine, host: str | None = None, port: int | None = None,
           collection: str | None = None, *, auth: str | None = None,
           users_file: Path | None = None, public: bool | None = None,
           uploads: bool | None = None, block: bool = True) -> gr.Blocks:
    """Serve the chat on ``host:port`` (default 127.0.0.1:7860 from settings), blocking
    unless ``block`` is false. A login (``auth`` ``USER:PASSWORD`` and/or a ``users_file``,
    default RAG_UI_AUTH / RAG_UI_USERS_FILE) is asked for when given; a non-loopback address
    needs one unless ``public``; ``uploads=False`` serves it read-only."""
    settings = engine.settings
    secret = settings.ui_auth.get_secret_value() if settings.ui_auth else None
    login = logins(auth or secret, users_file or settings.ui_users_file)
    host, port = host or settings.host, port or settings.port
    check_exposure(host, login, settings.ui_public if public is None else public)
    access = Access.from_settings(settings, uploads)
    name = access.check(access.default(collection or settings.collection))
    engine.ensure_default(name)  # the seed collection, on a fresh machine
    engine.store(name)  # fails early when the collection is missing
    try:  # loaded before the first question, not on it
        engine.warm(name, indexing=access.uploads)
    except RagError as exc:  # the questions will show it, with what to do
        log.warning("not loaded ahead of the first question: %s", exc)
    demo = build_app(engine, name, access=access)
    demo.queue(default_concurrency_limit=4)
    try:
        demo.launch(server_name=host, server_port=port, auth=login,
                    auth_message="Log in to ask about the documents.",
                    max_file_size=int(settings.max_upload_mb * 1e6), show_error=False,
                    ssr_mode=False, footer_links=["api"], quiet=not block,
                    prevent_thread_lock=not block)
    except OSError as exc:
        raise ConfigError(f"cannot serve on {host}:{port} ({exc.strerror or exc}): another "
                          "server may hold the port; stop it or pass --port (RAG_PORT)") from exc
    return demo
