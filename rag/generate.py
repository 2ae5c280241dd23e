"""Generative answers: numbered evidence sentences → a chat model → a verified, cited Answer.

The model (any LangChain chat model: ``openai:<model>`` for OpenAI and OpenAI-compatible
servers, ``ollama:<model>``) sees the retrieved sentences numbered, with their documents, and
cites ``[n]`` after each claim. :mod:`rag.verify` then checks every claim against the sentences
it cites. When the model cannot be used (not installed, unreachable, timeout, malformed output)
the extractive answer is returned with a notice saying so, or :class:`ModelFailed` is raised
(``RAG_LLM_FALLBACK=false``). LangChain integrations are imported only here, and only when a
model is configured.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from importlib.resources import files
from typing import Any

import yaml
from pydantic import SecretStr

from index.errors import ConfigError
from rag.compose import refusal
from rag.errors import ModelFailed
from rag.markup import has_markers, plain_reply
from rag.reader import MODEL_DIR, get_reader
from rag.settings import Settings
from rag.text import Question
from rag.types import Answer, Candidate
from rag.verify import is_refusal, verify

PROVIDERS = {"openai": "langchain-openai", "ollama": "langchain-ollama"}
MAX_OUTPUT_CHARS = 20_000
_THINKING = re.compile(r"<think>.*?(?:</think>|$)", re.S | re.I)


@dataclass(frozen=True)
class Prompts:
    """The prompt of generative answers, from ``rag/prompts/answer.yaml``."""

    system: str
    evidence_line: str
    user: str
    refusal: str
    refusal_phrases: tuple[str, ...]
    example: str

    @classmethod
    def load(cls) -> Prompts:
        text = files("rag").joinpath("prompts/answer.yaml").read_text(encoding="utf-8")
        data = yaml.safe_load(text)
        return cls(str(data["system"]), str(data["evidence_line"]), str(data["user"]),
                   str(data["refusal"]), tuple(str(p) for p in data["refusal_phrases"]),
                   str(data["example"]))

    def rules(self) -> str:
        return self.system.format(refusal=self.refusal, example=self.example)


def parse_answerer(spec: str) -> tuple[str, str]:
    """``openai:gpt-4o-mini`` → ``("openai", "gpt-4o-mini")``; anything else is a ConfigError."""
    provider, sep, model = spec.strip().partition(":")
    if not sep or provider.lower() not in PROVIDERS or not model.strip():
        raise ConfigError(
            f"unknown answerer {spec!r}: set RAG_ANSWERER to 'extractive', 'openai:<model>' "
            "(OpenAI or any OpenAI-compatible server) or 'ollama:<model>'")
    return provider.lower(), model.strip()


def chat_model(settings: Settings) -> Any:
    """The LangChain chat model named by ``settings.answerer`` (imported on first use)."""
    provider, model = parse_answerer(settings.answerer)
    try:
        if provider == "openai":
            from langchain_openai import ChatOpenAI
        else:
            from langchain_ollama import ChatOllama
    except ImportError as exc:
        raise ModelFailed(f"{PROVIDERS[provider]} is not installed: pip install "
                          f"'cited-rag[llm]' (or pip install {PROVIDERS[provider]})") from exc
    if provider == "ollama":
        return ChatOllama(model=model, base_url=settings.llm_base_url,
                          temperature=settings.llm_temperature,
                          num_predict=settings.llm_max_tokens,
                          client_kwargs={"timeout": settings.llm_timeout_s})
    base = (settings.llm_base_url or os.environ.get("OPENAI_BASE_URL")
            or os.environ.get("OPENAI_API_BASE"))
    key = (settings.llm_api_key.get_secret_value() if settings.llm_api_key is not None
           else os.environ.get("OPENAI_API_KEY"))
    if not key:
        if not base:
            raise ModelFailed("no API key for the model: set OPENAI_API_KEY (or RAG_LLM_API_KEY),"
                              " or RAG_LLM_BASE_URL to a local OpenAI-compatible server")
        key = "not-needed"  # local servers take any key
    # OpenAI reads max_completion_tokens; OpenAI-compatible servers (llama.cpp, vLLM, LM Studio)
    # read only max_tokens, which langchain-openai renames: it goes in the request body as is.
    limit: dict[str, Any] = ({"extra_body": {"max_tokens": settings.llm_max_tokens}} if base
                             else {"max_completion_tokens": settings.llm_max_tokens})
    return ChatOpenAI(model=model, base_url=base, api_key=SecretStr(key),
                      timeout=settings.llm_timeout_s, max_retries=settings.llm_max_retries,
                      temperature=settings.llm_temperature, use_responses_api=False, **limit)


def select_evidence(candidates: Sequence[Candidate], k: int) -> tuple[Candidate, ...]:
    """The ``k`` best-scored sentences; evidence number ``n`` is ``result[n - 1]``."""
    return tuple(sorted(candidates, key=lambda c: (-c.score, c.source, c.start))[:k])


def build_messages(prompts: Prompts, question: str, history: Sequence[tuple[str, str]],
                   evidence: Sequence[Candidate], turns: int,
                   system_role: bool = True) -> list[Any]:
    """System prompt, the last ``turns`` exchanges, then the numbered evidence and question.
    Without ``system_role`` (chat formats that drop system messages) the rules open the last
    user message instead."""
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    messages: list[Any] = [SystemMessage(prompts.rules())] if system_role else []
    for asked, answered in list(history)[-turns:] if turns > 0 else []:
        messages += [HumanMessage(asked), AIMessage(plain_reply(answered))]
    lines = "\n".join(prompts.evidence_line.format(n=n, source=c.source, text=" ".join(
        c.text.split())) for n, c in enumerate(evidence, start=1))
    user = prompts.user.format(evidence=lines, question=question)
    messages.append(HumanMessage(user if system_role else f"{prompts.rules()}\n{user}"))
    return messages


def describe_failure(exc: BaseException, settings: Settings) -> str:
    """A message that says what went wrong with the model call and what to do."""
    names = " ".join(t.__name__ for t in type(exc).__mro__)
    where = settings.llm_base_url or (
        os.environ.get("OPENAI_BASE_URL") or os.environ.get("OPENAI_API_BASE")
        or "https://api.openai.com/v1" if settings.answerer.startswith("openai")
        else os.environ.get("OLLAMA_HOST") or "http://localhost:11434")
    if "Timeout" in names:
        return (f"the model did not answer within {settings.llm_timeout_s:g} s "
                "(RAG_LLM_TIMEOUT_S sets the limit)")
    if "Connect" in names:
        return f"cannot reach the model at {where}: is the server running? (RAG_LLM_BASE_URL)"
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        detail = " ".join(str(getattr(exc, "message", "") or exc).split())[:200]
        return (f"the model server at {where} answered HTTP {status} ({detail}): check "
                "RAG_ANSWERER's model name and RAG_LLM_API_KEY")
    detail = " ".join(str(exc).split())[:200]
    return f"the model call failed ({type(exc).__name__}: {detail})"


def _text(content: Any) -> str:
    """Message content as text (providers give a string or a list of content blocks)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(b if isinstance(b, str) else str(b.get("text", ""))
                       for b in content if isinstance(b, str | dict))
    return ""


class GenerativeAnswerer:
    """Answers with a chat model over the extractive pass's candidates, then verifies."""

    def __init__(self, settings: Settings) -> None:
        self.provider, self.model_name = parse_answerer(settings.answerer)
        self.settings = settings
        self.prompts = Prompts.load()
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        with self._lock:
            if self._model is None:
                self._model = chat_model(self.settings)
            return self._model

    def answer(self, question: Question, history: Sequence[tuple[str, str]],
               extractive: Answer, *, stream: bool = False) -> Iterator[str | Answer]:
        """Yields the model's text so far (when ``stream``), then the final Answer."""
        evidence = select_evidence(extractive.candidates, self.settings.llm_evidence_sentences)
        if not evidence:  # nothing retrieved: the extractive refusal stands
            yield extractive
            return
        try:
            messages = build_messages(self.prompts, extractive.question, history, evidence,
                                      self.settings.llm_history_turns,
                                      self.settings.llm_system_role)
            text = ""
            for piece in self._call(messages):
                text += piece
                if len(text) > MAX_OUTPUT_CHARS:
                    raise ModelFailed(f"the model wrote over {MAX_OUTPUT_CHARS:,} characters")
                if stream and piece:
                    yield text
            result = self._verify(text, question, extractive, evidence)
        except ModelFailed as exc:
            if not self.settings.llm_fallback:
                raise
            shown = ("No sentence of the documents answers it either." if extractive.refused
                     else "This is the extractive answer: sentences quoted from the documents.")
            yield replace(extractive, notice=(
                f"The model ({self.settings.answerer}) was not used: {exc}. {shown}"),
                fallback=str(exc))
            return
        yield replace(result, answerer=self.settings.answerer)

    def _call(self, messages: list[Any]) -> Iterator[str]:
        """The model's text piece by piece. Always streamed, and closed at the deadline
        (``RAG_LLM_TIMEOUT_S`` for the whole answer): closing a stream stops the server's
        generation (llama.cpp, Ollama), where a timed-out plain request leaves it generating
        and the next question waits behind it."""
        pieces: Any = None
        try:
            model = self.model  # imported and built on first use: not part of the wait
            deadline = time.monotonic() + self.settings.llm_timeout_s
            pieces = model.stream(messages)
            for chunk in pieces:
                if time.monotonic() > deadline:
                    raise TimeoutError("the model's answer ran past the deadline")
                yield _text(chunk.content)
        except ModelFailed:
            raise
        except Exception as exc:  # each provider raises its own errors: all mean "failed"
            raise ModelFailed(describe_failure(exc, self.settings)) from exc
        finally:
            if pieces is not None:
                pieces.close()

    def _verify(self, text: str, question: Question, extractive: Answer,
                evidence: Sequence[Candidate]) -> Answer:
        text = _THINKING.sub("", text)  # reasoning models' thoughts are not the answer
        if not text.strip():
            raise ModelFailed("the model's answer was empty")
        if not has_markers(text):
            if is_refusal(text, (self.prompts.refusal, *self.prompts.refusal_phrases)):
                return replace(extractive, parts=refusal(extractive.collection), citations=(),
                               refused=True, notice=None)
            raise ModelFailed("the model's answer cites no evidence sentence (no [n] markers)")
        reader = get_reader(self.settings.reader_path or MODEL_DIR)  # checks claims, always
        result = verify(text, question, extractive, evidence, reader,
                        self.settings.claim_support_min, self.settings.drop_unsupported,
                        (self.prompts.example,))
        if not result.citations:  # nothing it wrote checked out: not a "documents don't say"
            why = result.claims[0].reason if result.claims else "no sentence"
            raise ModelFailed("no sentence of the model's answer is supported by the sentence "
                              f"it cites (the first: {why})")
        return result

