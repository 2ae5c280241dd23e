"""Our own training documents: questions over the kinds of documents users bring.

``rag/training/corpus`` holds original documents of many kinds (manuals, policies and
contracts, papers' front matter, news pages, minutes, company histories: Markdown, text, HTML)
in ``docs/`` and, in ``qa.json``, questions about them in the format of ``eval/unseen/qa.json``:
answerable ones with their evidence sentences, near misses (the document covers the topic, not
the asked fact; ``topics`` names the document) and follow-ups with the earlier turns. SQuAD
alone teaches the reader Wikipedia prose and its question style; these teach it the rest.

Each document becomes an :class:`~rag.training.data.Article` read the way the indexer reads it
(the loader, then the sentence splitter), so the reader trains on the sentences it will read. A
question's "paragraph" (the near negatives it is trained against) is the sentences around its
evidence, or for an unanswerable question the sentences that share the most of its words; a
follow-up is read as the engine reads it (:func:`rag.pipeline.follow_up`).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from index.errors import ConfigError
from index.load import load_file
from index.segment import split_sentences
from index.terms import terms
from rag.pipeline import follow_up
from rag.reader import title_of
from rag.text import Question as Asked
from rag.training.data import Article, Question, nearest, passages_of

CORPUS_DIR = Path(__file__).resolve().parent / "corpus"
NEIGHBOURS = 3
"""Sentences on each side of the evidence that form an answerable question's paragraph."""
MAX_CHARS = 10**8
CALIBRATION_DOCS = frozenset({
    "dishwasher-manual.md", "gym-membership-terms.txt", "exoplanet-abstract.txt",
    "marathon-news.html", "orchestra-history.md", "council-budget-minutes.txt"})
"""Documents never trained on: ``python -m rag.calibrate`` fits the reader's head and threshold
on them beside the SQuAD validation articles (one of each kind in the corpus)."""


def read_corpus(folder: Path = CORPUS_DIR, only: Collection[str] | None = None,
                exclude: Collection[str] = ()) -> list[Article]:
    """One article per document of ``folder/docs`` (those named in ``only`` when given, never
    those in ``exclude``), holding the questions of ``folder/qa.json`` that ask about it, in the
    order of the files' names."""
    qa = folder / "qa.json"
    if not qa.is_file():
        raise ConfigError(f"{qa} not found: the training corpus is a folder with docs/ and "
                          "qa.json")
    raw: dict[str, Any] = json.loads(qa.read_text(encoding="utf-8"))
    topics: dict[str, str] = raw.get("topics", {})
    asked: dict[str, list[dict[str, Any]]] = {}
    for case in raw["cases"]:
        source = case["evidence"][0]["source"] if case["evidence"] else topics[case["id"]]
        asked.setdefault(source, []).append(case)
    unknown = set(asked) - {p.name for p in (folder / "docs").iterdir()}
    if unknown:
        raise ConfigError(f"{qa} asks about documents that {folder / 'docs'} lacks: "
                          f"{', '.join(sorted(unknown))}")
    return [_article(folder / "docs" / name, asked[name]) for name in sorted(asked)
            if name not in exclude and (only is None or name in only)]


def _article(path: Path, cases: Sequence[dict[str, Any]]) -> Article:
    text = load_file(path, path.name, MAX_CHARS).text
    sentences = split_sentences(text, path.name)
    spans = tuple((s.start, s.end) for s in sentences)
    title = title_of(path.name)
    passages = passages_of(sentences, title)
    vocab = [set(terms(s.text)) for s in sentences]
    questions = []
    for case in cases:
        gold: list[int] = []
        for item in case["evidence"]:
            start = text.find(item["text"])
            if start < 0:
                raise ConfigError(f"{case['id']}: evidence not found in {path.name}: "
                                  f"{item['text'][:60]!r}")
            end = start + len(item["text"])
            gold += [i for i, (s, e) in enumerate(spans) if s < end and start < e]
        turns = [(str(q), str(a)) for q, a in case["history"]]
        question = str(case["question"]).strip()
        _, reading = follow_up(question, Asked.parse(question), turns)
        if gold:
            near = {j for i in gold for j in range(i - NEIGHBOURS, i + NEIGHBOURS + 1)}
            paragraph = tuple(sorted(j for j in near if 0 <= j < len(spans)))
        else:
            paragraph = nearest(reading, vocab)
        questions.append(Question(reading, tuple(sorted(set(gold))), paragraph))
    return Article(path.stem, text, passages, spans, tuple(questions))
