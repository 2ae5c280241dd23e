"""Unanswerable twins of answerable questions, for training the reader to refuse.

SQuAD 2.0's unanswerable questions were written by swapping a fact of an answerable one (another
name, another number) so that the article still covers the topic but no longer states the asked
fact. :func:`perturb` does the commonest such swap mechanically: one name or number of the
question that its gold sentence contains is replaced by another of the same kind from the same
article that the gold sentence does not contain. The gold sentence then holds the topic and not
the fact: a near miss the reader must score low.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping

NAME = "name"
NUMBER = "number"
_TOKEN = re.compile(r"(?<![\w'-])(?:\d[\d,]*(?:\.\d+)?|[A-Z][a-z][\w'-]*)(?![\w'-])")
_SENTENCE_BREAK = re.compile(r"[.!?]\s+|\n")
"""What a sentence's first word follows (besides the start of the text)."""
_FUNCTION_WORDS = frozenset(
    "The A An In On At Of For By With From To As And But Or If When While After Before During "
    "This That These Those It Its He She They Them His Her Their We Our You Your I What Which "
    "Who Whom Whose Where Why How There Here Some Many Most Such Other Another Each Every All "
    "Both Either Neither No Not Than Then Also However Although Because Since Until Over Under "
    "Between Into Onto Upon About Above Below Through Throughout Within Without Among".split())


def kind_of(token: str) -> str:
    return NUMBER if token[0].isdigit() else NAME


def swappable(text: str) -> dict[str, tuple[str, ...]]:
    """The names (capitalised words not opening a sentence, function words left out) and
    numbers of ``text``, by kind, each once, in order of first appearance."""
    found: dict[str, dict[str, None]] = {NAME: {}, NUMBER: {}}
    openings = {0} | {m.end() for m in _SENTENCE_BREAK.finditer(text)}
    for m in _TOKEN.finditer(text):
        word = m.group()
        if word in _FUNCTION_WORDS or (kind_of(word) == NAME and m.start() in openings):
            continue
        found[kind_of(word)][word] = None
    return {k: tuple(v) for k, v in found.items()}


def perturb(question: str, gold: str, vocabulary: Mapping[str, tuple[str, ...]],
            rng: random.Random) -> tuple[str, str] | None:
    """``question`` with one of its names or numbers that ``gold`` (its answer sentence) holds
    replaced by another of the same kind from ``vocabulary`` that ``gold`` does not hold, and the
    word put in; None when the question has no such word or the article no such replacement."""
    spots = [m for m in _TOKEN.finditer(question)
             if m.start() > 0 and m.group() not in _FUNCTION_WORDS and m.group() in gold]
    rng.shuffle(spots)
    for m in spots:
        word = m.group()
        options = [w for w in vocabulary.get(kind_of(word), ())
                   if w != word and w not in gold and w not in question]
        if options:
            new = rng.choice(options)
            return question[:m.start()] + new + question[m.end():], new
    return None
