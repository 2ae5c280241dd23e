"""The ``ask`` endpoint through gradio_client, and the chat handlers, on the real app."""

from __future__ import annotations

import re
import time
from html import escape
from pathlib import Path
from typing import Any

import gradio as gr
import pytest
from gradio_client import Client

from rag.pipeline import Engine
from ui.app import ChatApp

SEED_SOURCE = "seeds/azernews-2023-01-23-landmines.txt"
QUESTION = "How many Azerbaijanis became victims of landmine explosions?"
UNANSWERABLE = "What's the weather forecast for Baku tomorrow?"


@pytest.fixture(scope="module")
def client(app_url: str) -> Client:
    return Client(app_url, verbose=False)


def test_ask_endpoint_returns_structured_answer(client: Client) -> None:
    got = client.predict(QUESTION, api_name="/ask")
    assert set(got) == {"question", "answer", "refused", "citations", "answerer", "notice",
                        "fallback", "claims"}
    assert got["answerer"] == "extractive" and got["fallback"] is None
    assert got["question"] == QUESTION and got["refused"] is False
    assert "282" in got["answer"] and "[1]" in got["answer"]
    cited = [c for c in got["citations"] if c["source"] == SEED_SOURCE]
    assert cited, got
    for c in got["citations"]:
        assert set(c) == {"n", "source", "page", "start", "end", "text", "score"}
        assert c["page"] is None  # not a PDF
        with Path(c["source"]).open() as handle:
            assert handle.read()[c["start"]:c["end"]] == c["text"]
    assert any("282" in c["text"] for c in cited)


def test_ask_endpoint_refuses_unanswerable(client: Client) -> None:
    got = client.predict(UNANSWERABLE, api_name="/ask")
    assert got["refused"] is True and got["citations"] == []
    assert "don't say" in got["answer"]


def test_ask_endpoint_errors_carry_the_message(client: Client) -> None:
    with pytest.raises(Exception, match="the question is empty"):
        client.predict("   ", api_name="/ask")
    with pytest.raises(Exception, match="does not exist"):
        client.predict(QUESTION, "no-such-collection", api_name="/ask")


def test_chat_endpoint_is_named(client: Client) -> None:
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert {"/ask", "/chat"} <= set(endpoints)


def test_chat_streams_then_shows_citations(ui_engine: Engine) -> None:
    app = ChatApp(ui_engine, stream_delay=0)
    steps = list(app.chat(QUESTION, [], "seed"))
    assert len(steps) >= 4  # pending, partial answers, final
    first, *middle, (final_html, turns, box) = steps
    assert "Searching the documents" in first[0] and box == ""
    assert all("streaming" in html for html, _, _ in middle)
    assert len({html for html, _, _ in middle}) == len(middle)  # the text grows
    assert "streaming" not in final_html and 'class="citation"' in final_html
    assert "282" in final_html and len(turns) == 1 and turns[0]["answered"]


def test_follow_up_passes_history(ui_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    app = ChatApp(ui_engine, stream_delay=0)
    *_, (_, turns, _) = app.chat(QUESTION, [], "seed")
    *_, (_, turns, _) = app.chat(UNANSWERABLE, turns, "seed")
    calls: list[Any] = []
    real = ui_engine.ask

    def spy(question: object, history: object = None, collection: str | None = None) -> Any:
        calls.append(history)
        return real(question, history, collection)

    monkeypatch.setattr(ui_engine, "ask", spy)
    *_, (html, turns, _) = app.chat("And how many were injured?", turns, "seed")
    # answered turns are history, oldest first; refusals are not
    assert calls == [[(QUESTION, turns[0]["answer"])]]
    assert len(turns) == 3 and html.count('class="msg user"') == 3


def test_errors_show_as_a_message_not_a_traceback(ui_engine: Engine) -> None:
    app = ChatApp(ui_engine, stream_delay=0)
    *_, (html, turns, _) = app.chat(QUESTION, [], "no-such-collection")
    assert 'class="msg bot error"' in html and "does not exist" in html
    assert "Traceback" not in html and turns[0].get("answered") is None
    *_, (html, _, _) = app.chat(QUESTION, [], "bad name!")
    assert "invalid collection name" in html
    steps = list(app.chat("   ", [], "seed"))
    assert len(steps) == 1 and steps[0][1] == []


def test_citation_click_shows_the_span(ui_engine: Engine) -> None:
    app = ChatApp(ui_engine, stream_delay=0)
    *_, (_, turns, _) = app.chat(QUESTION, [], "seed")
    shown = app.show_citation(turns, gr.EventData(None, {"turn": 0, "n": 1}))
    c = turns[0]["citations"][0]
    assert f'<mark id="cited-span" class="cited">{escape(c["text"])}</mark>' in shown
    skipped = app.show_citation(turns, gr.EventData(None, {"turn": 5, "n": 1}))
    assert not isinstance(skipped, str)
    docs_html, sources = app.documents("seed")
    assert SEED_SOURCE in sources and "14" in docs_html
    whole = app.show_document(sources, "seed",
                              gr.EventData(None, {"doc": sources.index(SEED_SOURCE)}))
    assert "Azerbaijan has renewed accusations" in whole and "cited-span" not in whole
    empty_html, none = app.documents("brand-new-collection")
    assert none == [] and "No documents" in empty_html


def test_upload_handler_creates_collection_and_answers(ui_engine: Engine,
                                                       tmp_path: Path) -> None:
    app = ChatApp(ui_engine, stream_delay=0)
    doc = tmp_path / "quokka.md"
    doc.write_text("# Notes\n\nThe Quokka festival takes place every March in Perth.\n")
    *_, (status, docs_html, sources, picker, cleared) = app.upload([str(doc)], "fresh-uploads")
    assert 'class="ok"' in status and "quokka.md" in status and cleared is None
    assert sources == ["quokka.md"] and "fresh-uploads" in docs_html
    assert "fresh-uploads" in picker["choices"] or ("fresh-uploads", "fresh-uploads") in \
        picker["choices"]
    *_, (html, turns, _) = app.chat("When does the Quokka festival take place?", [],
                                    "fresh-uploads")
    assert "March" in html and turns[0]["citations"][0]["source"] == "quokka.md"
    *_, (status, *_) = app.upload([str(doc)], "../escape")
    assert 'class="error"' in status and "invalid collection name" in status


def test_uploaded_temp_copies_are_deleted(ui_engine: Engine, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    cache = tmp_path / "gradio"
    monkeypatch.setenv("GRADIO_TEMP_DIR", str(cache))
    kept, refused = cache / "a1" / "wombat.md", cache / "b2" / "tool.exe"
    for path in (kept, refused):
        path.parent.mkdir(parents=True)
    kept.write_text("The Wombat fair opens every April in Hobart.\n")
    refused.write_bytes(b"MZ")
    status, *_ = app_upload(ui_engine, [str(kept), str(refused)], "temp-uploads")
    assert 'class="ok"' in status and 'class="error"' in status
    assert list(cache.rglob("*")) == []  # nothing left to download by URL
    outside = tmp_path / "mine.md"
    outside.write_text("The Wombat fair opens every April in Hobart.\n")
    app_upload(ui_engine, [str(outside)], "temp-uploads")
    assert outside.exists()  # a file outside Gradio's cache is never deleted


def app_upload(engine: Engine, files: list[str], collection: str) -> tuple[Any, ...]:
    *_, last = ChatApp(engine, stream_delay=0).upload(files, collection)
    return tuple(last)


def test_a_port_in_use_is_our_error(ui_engine: Engine) -> None:
    import socket

    from index.errors import ConfigError
    from ui.app import launch

    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        with pytest.raises(ConfigError, match=f"cannot serve on 127.0.0.1:{port}.*--port"):
            launch(ui_engine, "127.0.0.1", port)


def test_an_upload_shows_moving_progress_answers_meanwhile_and_can_be_cancelled(
        ui_engine: Engine, tmp_path: Path) -> None:
    doc = tmp_path / "long.txt"
    doc.write_text(" ".join(f"Sentence {i} says the Kestrel bridge carries {i} cars a day."
                            for i in range(1500)))
    app = ChatApp(ui_engine, stream_delay=0)
    steps = app.upload([str(doc)], "progress-uploads")
    shown = [next(steps)[0] for _ in range(4)]  # the bar, twice a second
    started = time.perf_counter()
    answer = ui_engine.ask(QUESTION)  # answered while the upload is encoded
    waited = time.perf_counter() - started
    shown += [next(steps)[0] for _ in range(2)]
    assert "282" in answer.text
    percents = {int(m) for html in shown for m in re.findall(r'value="(\d+)"', html)}
    assert len(percents) >= 2 and max(percents) < 100, shown  # it moves
    assert waited < 10, f"a question waited {waited:.1f} s behind the upload"
    app.cancel_upload()
    *_, (status, _, sources, *_) = list(steps)
    assert "cancelled" in status and "long.txt" not in sources
    assert not (ui_engine.settings.data_dir / "uploads" / "progress-uploads" / "long.txt").exists()
