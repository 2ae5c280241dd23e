"""Generative answers through the real langchain-openai client against a scripted fake server.

The server (tests/rag/conftest.py) replies with canned completions; what is tested is ours:
the prompt it receives, the verification of every claim, and what the user sees.
"""

from __future__ import annotations

import itertools
import json
import re
import socket
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from index.embed import Embedder
from index.errors import ConfigError
from rag.errors import ModelFailed
from rag.pipeline import Engine
from rag.settings import Settings
from rag.types import Answer

SEED_SOURCE = "seeds/azernews-2023-01-23-landmines.txt"
QUESTION = "How many Azerbaijanis became victims of landmine explosions?"
UNANSWERABLE = "What's the weather forecast for Baku tomorrow?"
UNDATED = "On what date did the 44-day war end?"
VICTIMS = "282 Azerbaijanis became victims"
PLANTED = "plated landmines in thousands"
VICTIMS_CLAIM = "282 Azerbaijanis became victims of landmine explosions"

MakeEngine = Callable[..., Engine]


@pytest.fixture
def make_engine(seed_engine: Engine, embedder: Embedder, openai_server: Any) -> MakeEngine:
    """An engine over the seed collection answering with ``openai:fake-model``."""

    def make(**overrides: Any) -> Engine:
        values: dict[str, Any] = {
            "data_dir": seed_engine.settings.data_dir, "answerer": "openai:fake-model",
            "llm_base_url": openai_server.url, "llm_api_key": "test-key",
            "llm_timeout_s": 10.0, "llm_max_retries": 0, **overrides}
        return Engine(Settings(**values), embedder=embedder, client=seed_engine.client)

    return make


def evidence(request: dict[str, Any], snippet: str) -> int:
    """The number ``n`` of the evidence line ``[n] (source) text`` holding ``snippet``."""
    prompt = request["messages"][-1]["content"]
    for line in prompt.splitlines():
        m = re.match(r"\[(\d+)\] \(.*?\) (.*)", line)
        if m and snippet in m.group(2):
            return int(m.group(1))
    raise AssertionError(f"no evidence sentence holds {snippet!r}:\n{prompt}")


def check_offsets(answer: Answer) -> None:
    for i, c in enumerate(answer.citations, start=1):
        assert c.n == i and f"[{i}]" in answer.text
        assert Path(c.source).read_text(encoding="utf-8")[c.start:c.end] == c.text


def test_correct_citations_are_verified_and_renumbered(
        make_engine: MakeEngine, openai_server: Any, seed_engine: Engine) -> None:
    openai_server.queue(lambda r: (
        "Armenia planted landmines across thousands of square kilometers of Azerbaijani "
        f"land [{evidence(r, PLANTED)}]. Since the end of the 44-day war, {VICTIMS_CLAIM} "
        f"[{evidence(r, VICTIMS)}]."))
    a = make_engine().ask(QUESTION)
    assert not a.refused and a.notice is None
    assert [c.verdict for c in a.claims] == ["supported", "supported"]
    assert [c.markers for c in a.claims] == [(1,), (2,)]  # renumbered in order of first use
    assert a.text == ("Armenia planted landmines across thousands of square kilometers of "
                      "Azerbaijani land. [1] Since the end of the 44-day war, 282 Azerbaijanis "
                      "became victims of landmine explosions. [2]")
    assert PLANTED in a.citations[0].text and VICTIMS in a.citations[1].text
    check_offsets(a)
    extractive = seed_engine.ask(QUESTION)  # the same Citation, exact offsets and highlight
    assert a.citations[1] == replace(extractive.citations[0], n=2)
    request = openai_server.requests[0]
    # always streamed, so that a timeout can close it and stop the server's generation
    assert request["model"] == "fake-model" and request["stream"] is True
    system, user = request["messages"][0], request["messages"][-1]
    assert system["role"] == "system" and "NOT IN THE DOCUMENTS" in system["content"]
    assert f"[1] ({SEED_SOURCE}) " in user["content"]
    assert user["content"].rstrip().endswith(f"Question: {QUESTION}")


def test_a_marker_pointing_nowhere_is_dropped(make_engine: MakeEngine,
                                              openai_server: Any) -> None:
    openai_server.queue(lambda r: f"{VICTIMS_CLAIM} [{evidence(r, VICTIMS)}][42]. "
                                  "Armenia denied producing the mines [99].")
    a = make_engine().ask(QUESTION)
    assert not a.refused and len(a.citations) == 1
    first, second = a.claims
    assert first.supported and first.markers == (1,)
    assert not second.supported and second.markers == ()
    assert second.reason == "cites [99], which is not an evidence sentence"
    assert a.text == f"{VICTIMS_CLAIM}. [1] Armenia denied producing the mines."
    check_offsets(a)


@pytest.mark.parametrize("drop", [False, True])
def test_a_number_not_in_the_cited_sentence_is_unsupported(
        make_engine: MakeEngine, openai_server: Any, drop: bool) -> None:
    openai_server.queue(lambda r: f"{VICTIMS_CLAIM} [{evidence(r, VICTIMS)}]. Another 300 "
                        f"Azerbaijanis were injured by landmines [{evidence(r, VICTIMS)}].")
    a = make_engine(drop_unsupported=drop).ask(QUESTION)
    assert not a.refused and len(a.citations) == 1
    if drop:
        assert a.text == f"{VICTIMS_CLAIM}. [1]" and len(a.claims) == 1
        assert a.notice == ("1 sentence of the model's answer left out: not supported by the "
                            "documents.")
    else:
        wrong = a.claims[1]
        assert wrong.verdict == "unsupported" and wrong.reason == "300 is not in the cited sentence"
        assert a.text.endswith("Another 300 Azerbaijanis were injured by landmines.")
        assert a.notice is None


def test_a_hallucinated_claim_without_a_marker_is_unsupported(make_engine: MakeEngine,
                                                              openai_server: Any) -> None:
    openai_server.queue(lambda r: f"{VICTIMS_CLAIM} [{evidence(r, VICTIMS)}]. The mines were "
                                  "made by a Russian company called Zenit.")
    a = make_engine().ask(QUESTION)
    assert [(c.verdict, c.reason) for c in a.claims] == [("supported", ""),
                                                        ("unsupported", "no citation")]
    assert a.text == f"{VICTIMS_CLAIM}. [1] The mines were made by a Russian company called Zenit."


def test_the_model_refusing_is_a_refusal(make_engine: MakeEngine, openai_server: Any) -> None:
    openai_server.queue("NOT IN THE DOCUMENTS", "Baku will be sunny and warm tomorrow [1].")
    engine = make_engine()
    a = engine.ask(UNANSWERABLE)
    assert a.refused and a.citations == () and a.notice is None
    assert a.text.startswith("The documents don't say")



def test_a_withheld_model_answer_falls_back_to_the_extractive_answer(
        make_engine: MakeEngine, openai_server: Any, seed_engine: Engine) -> None:
    openai_server.queue(lambda r: f"Another 300 were injured [{evidence(r, VICTIMS)}].",
                        "Baku will be sunny and warm tomorrow [1].")
    engine = make_engine()
    a = engine.ask(QUESTION)  # nothing the model wrote checked out: the extractive answer
    extractive = seed_engine.ask(QUESTION)
    assert not a.refused and (a.text, a.citations) == (extractive.text, extractive.citations)
    assert a.fallback == ("no sentence of the model's answer is supported by the sentence it "
                          "cites (the first: 300 is not in the cited sentence)")
    assert (a.notice or "").endswith("This is the extractive answer: sentences quoted from "
                                     "the documents.")
    b = engine.ask(UNDATED)  # the extractive answer refuses: the notice says so
    assert b.refused and b.text.startswith("The documents don't say") and b.fallback
    assert (b.notice or "").endswith("No sentence of the documents answers it either.")
    assert "quoted from the documents" not in (b.notice or "")


def test_the_length_limit_is_sent_as_max_tokens(make_engine: MakeEngine,
                                               openai_server: Any) -> None:
    openai_server.queue(lambda r: f"{VICTIMS_CLAIM} [{evidence(r, VICTIMS)}].")
    make_engine(llm_max_tokens=77).ask(QUESTION)
    request = openai_server.requests[0]  # llama.cpp and vLLM read only max_tokens
    assert request["max_tokens"] == 77 and "max_completion_tokens" not in request


def test_a_timeout_closes_the_request_and_is_not_retried(
        make_engine: MakeEngine, openai_server: Any) -> None:
    openai_server.queue(*[openai_server.Reply("282 Azerbaijanis [1].", delay=3.0)] * 2)
    a = make_engine(llm_timeout_s=0.5, llm_max_retries=Settings().llm_max_retries).ask(QUESTION)
    assert "did not answer within 0.5 s" in (a.notice or "")
    deadline = time.monotonic() + 2.0
    while openai_server.closed < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(openai_server.requests) == 1 and openai_server.closed == 1


def test_the_timeout_bounds_the_whole_answer_not_each_read(
        make_engine: MakeEngine, openai_server: Any) -> None:
    # a model that trickles a piece every 0.3 s never trips a per-read timeout of 1 s
    openai_server.queue(openai_server.Reply(f"{VICTIMS_CLAIM} [1]. " * 4, pause=0.3))
    a = make_engine(llm_timeout_s=1.0).ask(QUESTION)
    assert "did not answer within 1 s" in (a.notice or "")
    deadline = time.monotonic() + 2.0
    while openai_server.closed < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert openai_server.closed == 1  # the stream was closed: the server stops generating


def test_a_timeout_falls_back_to_the_extractive_answer(
        make_engine: MakeEngine, openai_server: Any, seed_engine: Engine) -> None:
    slow = openai_server.Reply("282 Azerbaijanis [1].", delay=3.0)
    openai_server.queue(slow, slow)
    started = time.perf_counter()
    a = make_engine(llm_timeout_s=0.5).ask(QUESTION)
    assert time.perf_counter() - started < 2.5
    extractive = seed_engine.ask(QUESTION)
    assert (a.text, a.citations, a.refused, a.claims) == (
        extractive.text, extractive.citations, False, ())
    assert (a.notice or "").startswith(
        "The model (openai:fake-model) was not used: the model did not answer within 0.5 s")
    with pytest.raises(ModelFailed, match=r"did not answer within 0\.5 s"):
        make_engine(llm_timeout_s=0.5, llm_fallback=False).ask(QUESTION)


def test_garbage_output_falls_back_with_a_notice(make_engine: MakeEngine,
                                                 openai_server: Any) -> None:
    openai_server.queue("<|im_end|>}}{{ ### lorem ipsum dolor",
                        openai_server.Reply(raw=b"this is not json at all"),
                        openai_server.Reply(status=500, raw=b'{"error": {"message": "boom"}}'),
                        "")
    engine = make_engine()
    notices = [engine.ask(QUESTION).notice or "" for _ in range(4)]
    assert "cites no evidence sentence (no [n] markers)" in notices[0]
    assert "the model call failed" in notices[1]
    assert "answered HTTP 500" in notices[2]
    assert "the model's answer was empty" in notices[3]
    assert all(x.endswith("This is the extractive answer: sentences quoted from the documents.")
               for x in notices)


def test_an_unreachable_server_falls_back(make_engine: MakeEngine, seed_engine: Engine) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1"
    a = make_engine(llm_base_url=url).ask(QUESTION)
    assert a.text == seed_engine.ask(QUESTION).text
    assert f"cannot reach the model at {url}" in (a.notice or "")


def test_no_api_key_and_no_server_says_what_to_set(make_engine: MakeEngine) -> None:
    a = make_engine(llm_base_url=None, llm_api_key=None).ask(QUESTION)
    assert "set OPENAI_API_KEY" in (a.notice or "") and not a.refused


def test_a_streamed_reply(make_engine: MakeEngine, openai_server: Any) -> None:
    reply = (f"Since the end of the war, {VICTIMS_CLAIM} [1]. The mines came from Zenit [1].")
    openai_server.queue(reply)
    items = list(make_engine().ask_stream(QUESTION))
    *partial, final = items
    assert openai_server.requests[0]["stream"] is True
    assert len(partial) >= 5 and all(isinstance(x, str) for x in partial)
    assert all(b.startswith(a) and len(b) > len(a) for a, b in itertools.pairwise(partial))
    assert partial[-1] == reply
    assert isinstance(final, Answer) and not final.refused and final.notice is None
    assert [c.verdict for c in final.claims] == ["supported", "unsupported"]
    assert final.claims[1].reason == "zenit is not in the cited sentence"
    assert final.text == (f"Since the end of the war, {VICTIMS_CLAIM}. [1] "
                          "The mines came from Zenit.")
    check_offsets(final)


def test_the_chat_ui_streams_and_marks_unsupported_claims(make_engine: MakeEngine,
                                                          openai_server: Any) -> None:
    from ui.app import ChatApp

    openai_server.queue(lambda r: f"{VICTIMS_CLAIM} [{evidence(r, VICTIMS)}]. The mines came "
                                  "from <b>Zenit</b>.")
    app = ChatApp(make_engine(), stream_delay=0)
    first, *middle, (html, turns, _) = list(app.chat(QUESTION, [], "seed"))
    assert "Searching the documents" in first[0]
    assert middle and all("streaming" in h for h, _, _ in middle)
    assert "streaming" not in html and 'class="citation"' in html
    assert 'class="claim unsupported"' in html and "&lt;b&gt;Zenit&lt;/b&gt;" in html
    assert "<b>Zenit" not in html
    assert turns[0]["answered"] and turns[0]["answer"].startswith(f"{VICTIMS_CLAIM}. [1]")


def test_a_fallback_notice_is_shown_in_the_chat(make_engine: MakeEngine,
                                                openai_server: Any) -> None:
    from ui.app import ChatApp

    openai_server.queue("no markers here at all")
    app = ChatApp(make_engine(), stream_delay=0)
    *_, (html, turns, _) = app.chat(QUESTION, [], "seed")
    assert 'class="notice"' in html and "was not used" in html and 'class="citation"' in html
    line = app.status_line("seed", turns)  # the status line says which model, and why not
    assert "answerer: openai:fake-model" in line
    assert ("the last answer is extractive: the model&#x27;s answer cites no evidence sentence "
            "(no [n] markers)") in line


def test_json_says_which_answerer_wrote_the_answer(
        make_engine: MakeEngine, openai_server: Any, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, seed_engine: Engine) -> None:
    from rag.cli import main

    openai_server.queue(lambda r: f"{VICTIMS_CLAIM} [{evidence(r, VICTIMS)}]. The mines came "
                                  "from Zenit [1].", "no markers here at all")
    for key, value in {"RAG_DATA_DIR": str(seed_engine.settings.data_dir),
                       "RAG_ANSWERER": "openai:fake-model", "RAG_LLM_BASE_URL": openai_server.url,
                       "RAG_LLM_API_KEY": "k", "RAG_LLM_TIMEOUT_S": "10"}.items():
        monkeypatch.setenv(key, value)
    assert main(["ask", QUESTION, "--json"]) == 0
    model = json.loads(capsys.readouterr().out)
    assert (model["answerer"], model["notice"], model["fallback"]) == (
        "openai:fake-model", None, None)
    assert [(c["text"], c["verdict"], c["reason"], c["markers"]) for c in model["claims"]] == [
        (f"{VICTIMS_CLAIM}. [1]", "supported", "", [1]),
        ("The mines came from Zenit.", "unsupported", "zenit is not in the cited sentence", [])]
    assert main(["ask", QUESTION, "--json"]) == 0
    fell = json.loads(capsys.readouterr().out)
    assert fell["answerer"] == "extractive" and fell["claims"] == []
    assert fell["fallback"] == "the model's answer cites no evidence sentence (no [n] markers)"
    assert "was not used" in fell["notice"] and fell["citations"]


def test_the_ask_endpoint_carries_the_fallback(make_engine: MakeEngine,
                                               openai_server: Any) -> None:
    from ui.app import ChatApp

    openai_server.queue("no markers here at all")
    got = ChatApp(make_engine(), stream_delay=0).ask(QUESTION)
    assert got["answerer"] == "extractive" and "no [n] markers" in got["fallback"]
    assert "was not used" in got["notice"] and got["claims"] == []


def evidence_line(request: dict[str, Any], snippet: str) -> str:
    n = evidence(request, snippet)
    return next(line for line in request["messages"][-1]["content"].splitlines()
                if line.startswith(f"[{n}] ("))


def test_an_echoed_evidence_line_is_checked_without_its_source_label(
        make_engine: MakeEngine, openai_server: Any) -> None:
    openai_server.queue(lambda r: evidence_line(r, VICTIMS))  # "[n] (source) sentence"
    a = make_engine().ask(QUESTION)
    assert [(c.verdict, c.reason) for c in a.claims] == [("supported", "")]
    assert SEED_SOURCE not in a.text and a.fallback is None


def test_the_prompts_example_is_a_placeholder_and_is_not_an_answer(
        make_engine: MakeEngine, openai_server: Any) -> None:
    from rag.generate import Prompts

    example = Prompts.load().example
    openai_server.queue(f"{example} [1].")
    a = make_engine().ask(QUESTION)
    rules = openai_server.requests[0]["messages"][0]["content"]
    assert f'"{example} [2]."' in rules and not any(ch.isdigit() for ch in example)
    assert (a.fallback or "").endswith("(the first: it repeats the prompt's example)")


def test_without_a_system_role_the_rules_open_the_user_message(
        make_engine: MakeEngine, openai_server: Any) -> None:
    openai_server.queue(lambda r: f"{VICTIMS_CLAIM} [{evidence(r, VICTIMS)}].")
    a = make_engine(llm_system_role=False).ask(QUESTION, [("Who?", "A ministry [1].")])
    messages = openai_server.requests[0]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    last = messages[-1]["content"]
    assert last.startswith("You answer questions about a user's documents")
    assert "NOT IN THE DOCUMENTS" in last and f"Question: {QUESTION}" in last
    assert a.claims[0].supported


def test_history_goes_to_the_model(make_engine: MakeEngine, openai_server: Any) -> None:
    openai_server.queue(lambda r: f"{VICTIMS_CLAIM} [{evidence(r, VICTIMS)}].")
    history = [("Who is Ayxan Hajizada?", "He is the **spokesperson** of the ministry [1].")]
    make_engine().ask("And how many victims did he mention?", history)
    roles = [(m["role"], m["content"]) for m in openai_server.requests[0]["messages"]]
    assert roles[1:3] == [("user", "Who is Ayxan Hajizada?"),
                          ("assistant", "He is the spokesperson of the ministry.")]
    assert roles[3][0] == "user" and "And how many victims did he mention?" in roles[3][1]


@pytest.mark.parametrize("spec", ["gpt-4o", "openai:", "anthropic:claude", ""])
def test_an_unknown_answerer_is_a_config_error(spec: str, embedder: Embedder,
                                               tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="RAG_ANSWERER"):
        Engine(Settings(data_dir=tmp_path, answerer=spec), embedder=embedder)


def test_the_extractive_default_needs_no_model(seed_engine: Engine) -> None:
    assert Settings().answerer == "extractive" and seed_engine.generator is None
    *partial, final = seed_engine.ask_stream(QUESTION)
    assert partial == [] and final == seed_engine.ask(QUESTION) and final.notice is None


def test_a_reasoning_models_thoughts_are_not_the_answer(make_engine: MakeEngine,
                                                        openai_server: Any) -> None:
    openai_server.queue(lambda r: "<think>Maybe Zenit made them [7].</think>\n"
                                  f"{VICTIMS_CLAIM} [{evidence(r, VICTIMS)}].")
    a = make_engine().ask(QUESTION)
    assert a.text == f"{VICTIMS_CLAIM}. [1]" and len(a.claims) == 1


def test_ollama_and_openai_models_are_built_from_settings(tmp_path: Path) -> None:
    pytest.importorskip("langchain_ollama")
    from rag.generate import chat_model

    ollama = chat_model(Settings(data_dir=tmp_path, answerer="ollama:llama3.2",
                                 llm_base_url="http://gpu-box:11434", llm_timeout_s=7))
    assert type(ollama).__name__ == "ChatOllama" and ollama.model == "llama3.2"
    assert ollama.base_url == "http://gpu-box:11434" and ollama.client_kwargs == {"timeout": 7}
    local = chat_model(Settings(data_dir=tmp_path, answerer="openai:qwen2.5-7b-instruct",
                                llm_base_url="http://127.0.0.1:8000/v1", llm_api_key=None))
    assert local.model_name == "qwen2.5-7b-instruct" and local.temperature == 0.0
    assert local.openai_api_base == "http://127.0.0.1:8000/v1"
    assert ollama.num_predict == Settings().llm_max_tokens
    hosted = chat_model(Settings(data_dir=tmp_path, answerer="openai:gpt-4o-mini",
                                 llm_api_key="k", llm_max_tokens=64))
    assert hosted.max_tokens == 64 and hosted.extra_body is None  # max_completion_tokens
