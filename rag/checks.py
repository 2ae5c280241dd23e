"""Checks of what a caller asks: the question and the history of a follow-up."""

from __future__ import annotations

import re

from index.errors import InvalidQuestion

History = list[tuple[str, str]]
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def check_question(question: object, limit: int) -> str:
    """The question with control characters and runs of spaces collapsed, or InvalidQuestion
    saying what is wrong."""
    if not isinstance(question, str):
        raise InvalidQuestion(
            f"the question must be text, not {type(question).__name__}: pass a string")
    text = " ".join(_CONTROL.sub(" ", question).split())
    if not text:
        raise InvalidQuestion("the question is empty: type a question about your documents")
    check_unicode(text, "the question")
    if not any(ch.isalnum() for ch in text):
        raise InvalidQuestion("the question holds no words (only marks, symbols or "
                              "invisible characters): type a question about your documents")
    if len(text) > limit:
        raise InvalidQuestion(
            f"the question is {len(text):,} characters long, over the {limit:,} limit: "
            "ask a shorter question (RAG_MAX_QUESTION_CHARS sets the limit)")
    return text


def check_history(history: object, max_turns: int, max_chars: int) -> History:
    """The last ``max_turns`` turns of ``history``, checked; refused when over ``max_chars``."""
    if history is None:
        return []
    if not isinstance(history, list | tuple):
        raise InvalidQuestion("history must be a list of (question, answer) pairs, oldest first")
    turns: History = []
    for turn in history[-max_turns:] if max_turns > 0 else ():
        if (not isinstance(turn, list | tuple) or len(turn) != 2
                or not all(isinstance(x, str) for x in turn)):
            raise InvalidQuestion(
                "history must be a list of (question, answer) pairs of strings, oldest first")
        turns.append((str(turn[0]), str(turn[1])))
    size = sum(len(q) + len(a) for q, a in turns)
    if size > max_chars:
        raise InvalidQuestion(
            f"the history of the last {len(turns)} turns is {size:,} characters long, over the "
            f"{max_chars:,} limit: send fewer or shorter turns (RAG_MAX_HISTORY_CHARS sets the "
            "limit)")
    for q, a in turns:
        check_unicode(q + a, "the history")
    return turns


def check_unicode(text: str, what: str) -> None:
    """Refuse text holding a lone surrogate (not valid Unicode: no encoder accepts it)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidQuestion(
            f"{what} holds an unpaired surrogate (U+{ord(text[exc.start]):04X} at character "
            f"{exc.start}), which is not valid text: send it as UTF-8") from exc
