"""The conversation side of the chat: answering (streamed in), showing a cited sentence in its
document (on its page for PDFs), the ``/ask`` endpoint, and the conversation as Markdown."""

from __future__ import annotations

import itertools
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gradio as gr

from index.docrecord import page_bounds
from index.errors import RagError
from rag.export import conversation_markdown
from rag.pipeline import Engine
from rag.types import Answer, answer_json
from ui import panels, render
from ui.access import Access
from ui.library import Library, _session, unexpected

Turn = dict[str, Any]
STREAM_STEPS = 12
MAX_SHOWN_TURNS = 50
"""Older turns stay in the history but leave the page, so it stays light."""
PLACEHOLDER = "Ask a question about the documents. Every claim in the answer cites its sentence."
VIEWER_HINT = ('<div class="viewer-empty">Click a citation or a document to read it here, '
               "with the cited sentence highlighted.</div>")
_views = itertools.count()


def conversation(turns: list[Turn], extra: str = "") -> str:
    shown = [t["html"] for t in turns[-MAX_SHOWN_TURNS:]]
    if len(turns) > MAX_SHOWN_TURNS:
        shown.insert(0, f'<div class="empty">{len(turns) - MAX_SHOWN_TURNS} earlier questions '
                        "are not shown.</div>")
    return render.render_conversation([*shown, extra], PLACEHOLDER)


def stream_points(text: str, steps: int = STREAM_STEPS) -> list[int]:
    """Prefix lengths of ``text`` ending at word boundaries, about ``steps`` of them."""
    ends = [i for i, ch in enumerate(text) if ch == " "] + [len(text)]
    stride = max(1, len(ends) // steps)
    return ends[stride - 1 :: stride][:-1]


def viewer(inner: str) -> str:
    return f'<div class="viewer" data-view="{next(_views)}">{inner}</div>'


class ChatApp(Library):
    """The handlers of the app, bound to one engine."""

    def __init__(self, engine: Engine, collection: str | None = None,
                 stream_delay: float = 0.03, access: Access | None = None) -> None:
        super().__init__(engine, collection, access)
        self.stream_delay = stream_delay
        self._exports = Path(tempfile.mkdtemp(prefix="rag-conversations-"))

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
            yield conversation(turns), turns, ""
            return
        history = [(t["question"], t["answer"]) for t in turns if t.get("answered")]
        asked = render.render_question(text)
        yield conversation(turns, asked + render.render_pending()), turns, ""
        answer: Answer | None = None
        streamed = getattr(self.engine, "generator", None) is not None
        try:
            name = self._name(collection)
            if streamed:  # a chat model writes the answer: show its text as it comes
                for item in self.engine.ask_stream(text, history, name):
                    if isinstance(item, Answer):
                        answer = item
                    else:
                        yield conversation(turns, asked + render.render_partial(item)), turns, ""
            else:
                answer = self.engine.ask(text, history, name)
            if answer is None:
                raise RuntimeError("the answerer gave no answer")
        except RagError as exc:
            error = {"question": text, "html": asked + render.render_error(str(exc))}
            yield conversation([*turns, error]), [*turns, error], ""
            return
        except Exception as exc:
            error = {"question": text, "html": asked + render.render_error(unexpected(exc))}
            yield conversation([*turns, error]), [*turns, error], ""
            return
        index = len(turns)
        for shown in [] if streamed else stream_points(answer.text):
            partial = render.render_answer(answer, {}, index, shown_chars=shown)
            yield conversation(turns, asked + partial), turns, ""
            time.sleep(self.stream_delay)
        turn = {
            "question": text, "answer": answer.text, "answered": not answer.refused,
            "collection": answer.collection, "record": answer,
            "citations": [c.as_json() for c in answer.citations],
            "html": asked + render.render_answer(answer, self._doc_texts(answer), index),
        }
        yield conversation([*turns, turn]), [*turns, turn], ""

    def ask(self, question: str, collection: str = "",
            history: list[list[str]] | None = None) -> dict[str, Any]:
        """The structured answer: question, answer, refused, citations (n, source, page,
        start, end, text, score). ``history`` holds earlier [question, answer] pairs, oldest
        first."""
        try:
            answer = self.engine.ask(question, history or [], self._name(collection))
        except RagError as exc:
            raise gr.Error(str(exc), print_exception=False) from exc
        return answer_json(answer)

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
            found = self.engine.document(c["source"], self._name(turn["collection"]))
        except RagError as exc:
            return viewer(render.render_error(str(exc)))
        if found is None:
            return viewer(render.render_error(
                f"{c['source']} is no longer in the collection “{turn['collection']}”."))
        text, starts = found
        start, end = c["start"], c["end"]
        if text[start:end] != c["text"]:  # the document changed since the answer
            start = text.find(c["text"])
            start, end = (None, None) if start < 0 else (start, start + len(c["text"]))
        page = None
        number = c.get("page")
        bounds = page_bounds(starts, number, len(text)) if number and start is not None else None
        if bounds is not None:
            page = (number, len(starts), *bounds)
        return viewer(panels.render_document(text, start, end, c["source"], page=page))

    def show_document(self, sources: list[str], collection: str, evt: gr.EventData) -> str:
        data = getattr(evt, "_data", None) or {}
        try:
            source = sources[int(data["doc"])]
            text = self.engine.document_text(source, self._name(collection))
        except (KeyError, IndexError, TypeError, ValueError):
            return gr.skip()  # type: ignore[no-any-return]
        except RagError as exc:
            return viewer(render.render_error(str(exc)))
        if text is None:
            return viewer(render.render_error(f"{source} is no longer in the collection."))
        return viewer(panels.render_document(text, None, None, source))

    def export(self, turns: list[Turn], request: gr.Request | None = None) -> str | None:
        """The conversation as a Markdown file (for the Download button); None before the
        first answer."""
        answers = [t["record"] for t in turns if isinstance(t.get("record"), Answer)]
        if not answers:
            return None
        folder = re.sub(r"[^A-Za-z0-9_-]", "", _session(request))[:40] or "local"
        path = self._exports / folder / "conversation.md"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(conversation_markdown(answers), encoding="utf-8")
        return str(path)
