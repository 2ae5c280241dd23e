"""The Documents panel's handlers and the conversation export, on the real engine: remove,
re-index, create and delete; allowed collections and read-only apps on every handler."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import pytest

from rag.pipeline import Engine
from ui.access import Access
from ui.app import ChatApp

QUESTION = "How many Azerbaijanis became victims of landmine explosions?"


def test_remove_reindex_create_and_delete(ui_engine: Engine, tmp_path: Path) -> None:
    app = ChatApp(ui_engine, stream_delay=0)
    status, picker, name_box = app.create_collection("handled")
    assert "Created the collection “handled”" in status and picker["value"] == "handled"
    assert name_box == ""
    assert "exists already" in app.create_collection("handled")[0]
    doc = tmp_path / "kiln.txt"
    doc.write_text("The Harrow kiln fires bricks twice a week.\n")
    *_, (status, _, sources, _, _) = app.upload([str(doc)], "handled")
    assert sources == ["kiln.txt"]
    assert "unchanged since it was indexed" in app.reindex_document("kiln.txt", "handled")[0]
    doc.write_text("The Harrow kiln fires bricks three times a week.\n")
    upload_copy = ui_engine.settings.data_dir / "uploads" / "handled" / "kiln.txt"
    upload_copy.write_text(doc.read_text())  # the indexed file changed
    status, _, _ = app.reindex_document("kiln.txt", "handled")
    assert "Re-indexed kiln.txt: 1 sentences" in status
    assert "three times" in (ui_engine.document_text("kiln.txt", "handled") or "")
    assert "Pick a document first" in app.remove_document(None, "handled")[0]
    status, documents, sources = app.remove_document("kiln.txt", "handled")
    assert "Removed kiln.txt" in status and sources == [] and "No documents" in documents
    assert "is not in “handled” any more" in app.remove_document("kiln.txt", "handled")[0]
    assert "is not in the collection &#x27;handled&#x27;" in app.reindex_document("kiln.txt",
                                                                        "handled")[0]
    shown, text = app.ask_delete("handled")
    assert shown["visible"] is True and "its 0 documents?" in text
    status, picker, hidden = app.delete_collection("handled")
    assert "Deleted the collection “handled”" in status and hidden["visible"] is False
    assert "handled" not in ui_engine.collections()
    assert not upload_copy.exists()
    assert "does not exist" in app.delete_collection("handled")[0]


def test_the_allow_list_holds_on_every_handler(ui_engine: Engine, tmp_path: Path) -> None:
    app = ChatApp(ui_engine, stream_delay=0, access=Access(("seed",)))
    refused = "is not served here"
    *_, (html, _, _) = app.chat(QUESTION, [], "other-one")
    assert refused in html
    with pytest.raises(gr.Error, match=refused):
        app.ask(QUESTION, "other-one")
    assert refused in app.documents("other-one")[0]
    doc = tmp_path / "x.txt"
    doc.write_text("Some text here.\n")
    *_, (status, *_) = app.upload([str(doc)], "other-one")
    assert refused in status
    assert refused in app.remove_document("x.txt", "other-one")[0]
    assert refused in app.reindex_document("x.txt", "other-one")[0]
    assert refused in app.create_collection("other-one")[0]
    assert refused in app.ask_delete("other-one")[1]
    assert refused in app.delete_collection("other-one")[0]
    assert "other-one" not in ui_engine.collections()
    *_, (_, turns, _) = app.chat(QUESTION, [], "seed")
    turns[0]["collection"] = "other-one"  # a forged state cannot open another collection
    shown = app.show_citation(turns, gr.EventData(None, {"turn": 0, "n": 1}))
    assert refused in shown
    assert refused in app.show_document(["a.txt"], "other-one",
                                        gr.EventData(None, {"doc": 0}))
    assert app.picker()["choices"] == ["seed"]


def test_a_read_only_app_changes_nothing(ui_engine: Engine, tmp_path: Path) -> None:
    app = ChatApp(ui_engine, stream_delay=0, access=Access(uploads=False))
    doc = tmp_path / "y.txt"
    doc.write_text("The Yarrow inn opened in 1750.\n")
    *_, (status, *_) = app.upload([str(doc)], "seed")
    assert "read-only" in status
    assert "read-only" in app.remove_document("seeds/azernews-2023-01-23-landmines.txt",
                                              "seed")[0]
    assert "read-only" in app.create_collection("new-one")[0]
    assert "read-only" in app.delete_collection("seed")[0]
    assert "seeds/azernews-2023-01-23-landmines.txt" in app.documents("seed")[1]


def test_status_line_and_export(ui_engine: Engine) -> None:
    app = ChatApp(ui_engine, stream_delay=0)
    line = app.status_line("seed", [])
    held = len(ui_engine.documents("seed"))  # other tests upload into it too
    assert "Collection “seed”" in line and f"{held} document{'s' if held != 1 else ''}<" in line
    assert "answerer: extractive (trained reader)" in line and "sl-fallback" not in line
    assert app.export([]) is None
    *_, (_, turns, _) = app.chat(QUESTION, [], "seed")
    *_, (_, turns, _) = app.chat("", turns, "seed")
    path = app.export(turns)
    assert path is not None
    text = Path(path).read_text(encoding="utf-8")
    assert f"## 1. {QUESTION}" in text and "**282**" in text
    assert "[1] `seeds/azernews-2023-01-23-landmines.txt`, characters" in text
    assert 'data-copy="' in turns[0]["html"] and "Copy</button>" in turns[0]["html"]
