"""Training and validation pairs for the reader, from SQuAD 2.0-format data, split by article.

Each article becomes one document (its paragraphs joined by blank lines) split into sentences by
the indexer's own splitter, so the reader trains on the sentences it will read. For a question,
the gold sentence is the one holding the answer span; negatives are the other sentences of its
paragraph, the sentences of other paragraphs that share the most question words (the topic is
there, the asked fact is not), and one sentence drawn at random; an unanswerable question
(SQuAD 2.0 ``is_impossible``) gets only negatives. Optionally, the sentences the first stage
ranks highest that do not hold the answer join them (:mod:`rag.training.mine`), and each
answerable question gets an unanswerable twin (:mod:`rag.training.perturb`), and each article
gets questions of other articles as unanswerable ones (:func:`with_off_topic`).

The split: ``TEST_TITLES`` (all of ``squad2-dev-small.json``) are never read for training;
``VALIDATION_TITLES`` choose the threshold and the ablations; the rest of
``squad2-dev-half.json`` trains. XQuAD's 32 articles that are not in the half are never read.
"""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from index.records import PREV_CHARS
from index.segment import split_sentences
from index.terms import terms
from index.types import Sentence
from rag.reader import Passage, title_of
from rag.training.perturb import perturb, swappable

TRAIN_FILE = "squad2-dev-half.json"
HALF_TITLES = frozenset({
    "Normans", "Computational_complexity_theory", "Huguenot", "Steam_engine", "1973_oil_crisis",
    "European_Union_law", "Packet_switching", "Harvard_University", "Yuan_dynasty",
    "Immune_system", "Scottish_Parliament", "Islamism", "Imperialism", "Warsaw",
    "French_and_Indian_War", "Force"})
"""The articles of ``squad2-dev-half.json``; XQuAD holds them too, so its held-out part is
the other 32."""
TEST_TITLES = frozenset({"Normans", "Computational_complexity_theory"})
VALIDATION_TITLES = frozenset({"Harvard_University", "Packet_switching", "Imperialism"})
PARAGRAPH_NEGATIVES = 6
TOPIC_NEGATIVES = 2
TWIN_NEGATIVES = 3
NEAREST = 6
"""Sentences sharing the most words with an unanswerable question that form its paragraph
(the near negatives it is trained against) when it has no paragraph of its own."""


@dataclass(frozen=True)
class Question:
    """A question over one article: its sentences' indices that hold the answer (none when
    unanswerable) and those of its paragraph."""

    text: str
    gold: tuple[int, ...]
    paragraph: tuple[int, ...]


def source_of(title: str) -> str:
    """The source name an article is indexed under (a file ``<title>.txt``)."""
    return f"{title}.txt"


@dataclass(frozen=True)
class Article:
    title: str
    text: str
    passages: tuple[Passage, ...]
    spans: tuple[tuple[int, int], ...]
    questions: tuple[Question, ...]

    @property
    def source(self) -> str:
        return source_of(self.title)


def write_articles(articles: Iterable[Article], folder: Path) -> None:
    """Each article as the file it is indexed from (:attr:`Article.source`), in ``folder``."""
    for a in articles:
        (folder / a.source).write_text(a.text, encoding="utf-8")


@dataclass(frozen=True)
class Pair:
    """A labelled (question, passage) pair; ``group`` numbers the question it was drawn for,
    so a listwise objective can compare a question's sentences with each other."""

    question: str
    passage: Passage
    label: float
    group: int = -1


def read_articles(path: Path, titles: Iterable[str] | None = None,
                  exclude: Iterable[str] = ()) -> list[Article]:
    """The articles of a SQuAD-format file (only ``titles`` when given, never ``exclude``)."""
    raw: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    wanted = set(titles) if titles is not None else None
    skip = set(exclude)
    return [_article(a) for a in raw["data"]
            if a["title"] not in skip and (wanted is None or a["title"] in wanted)]


def passages_of(sentences: Sequence[Sentence], title: str) -> tuple[Passage, ...]:
    """What the reader reads for each sentence of a document titled ``title``: the sentence, the
    title and the end of the sentence before (as the index records it)."""
    return tuple(Passage(s.text, title, sentences[i - 1].text[-PREV_CHARS:] if i else "")
                 for i, s in enumerate(sentences))


def _article(raw: dict[str, Any]) -> Article:
    parts: list[str] = []
    offsets: list[int] = []
    pos = 0
    for para in raw["paragraphs"]:
        offsets.append(pos)
        parts.append(str(para["context"]))
        pos += len(parts[-1]) + 2
    text = "\n\n".join(parts)
    sentences = split_sentences(text)
    spans = tuple((s.start, s.end) for s in sentences)
    title = title_of(source_of(raw["title"]))  # as the indexed file is read
    passages = passages_of(sentences, title)
    questions: list[Question] = []
    for para, base in zip(raw["paragraphs"], offsets, strict=True):
        end = base + len(para["context"])
        in_para = tuple(i for i, (s, e) in enumerate(spans) if s < end and base < e)
        for qa in para["qas"]:
            answers = [a for a in qa.get("answers") or [] if str(a.get("text", "")).strip()]
            gold: tuple[int, ...] = ()
            if answers and not qa.get("is_impossible", False):
                votes = Counter((int(a["answer_start"]), str(a["text"])) for a in answers)
                start, answer = max(votes, key=lambda k: (votes[k], -list(votes).index(k)))
                lo, hi = base + start, base + start + len(answer)
                gold = tuple(i for i, (s, e) in enumerate(spans) if s < hi and lo < e)
            questions.append(Question(str(qa["question"]).strip(), gold, in_para))
    return Article(str(raw["title"]), text, passages, spans, tuple(questions))


def nearest(question: str, vocab: Sequence[set[str]], n: int = NEAREST) -> tuple[int, ...]:
    """The indices of the ``n`` sentences (given as their sets of terms) that share the most
    terms with ``question``, in document order."""
    words = set(terms(question))
    return tuple(sorted(sorted(range(len(vocab)), key=lambda i: (-len(words & vocab[i]), i))[:n]))


def with_off_topic(articles: Sequence[Article], per_article: int, seed: int) -> list[Article]:
    """Each article with ``per_article`` questions of the other articles added, unanswerable:
    questions about none of a user's documents, which must be refused. Each is drawn from an
    article chosen at random (so a few long articles do not supply them all); its paragraph is
    the sentences that share the most of its words. A question all of whose words the article
    holds may be answered there (a generic one: "Which journal published this study?"), so it
    is left out."""
    rng = random.Random(seed)
    out = []
    for article in articles:
        others = [a for a in articles if a.title != article.title and a.questions]
        if not others or per_article <= 0:
            out.append(article)
            continue
        vocab = [set(terms(p.sentence)) for p in article.passages]
        held = set().union(*vocab)
        asked: list[str] = []
        for _ in range(10 * per_article):
            text = rng.choice(rng.choice(others).questions).text
            if not set(terms(text)) <= held and text not in asked:
                asked.append(text)
            if len(asked) == per_article:
                break
        extra = tuple(Question(text, (), nearest(text, vocab)) for text in asked)
        out.append(replace(article, questions=article.questions + extra))
    return out


def _twin(article: Article, q: Question, vocabulary: Mapping[str, tuple[str, ...]],
          rng: random.Random, group: int) -> list[Pair]:
    """The pairs of ``q``'s unanswerable twin (:func:`rag.training.perturb.perturb`): its gold
    sentences and up to ``TWIN_NEGATIVES`` others of its paragraph, all negative; a sentence
    holding the word put in is left out (it may answer the twin)."""
    gold = " ".join(article.passages[i].sentence for i in q.gold)
    made = perturb(q.text, gold, vocabulary, rng)
    if made is None:
        return []
    text, new = made
    own = [i for i in q.paragraph if i not in q.gold and new not in article.passages[i].sentence]
    rng.shuffle(own)
    return [Pair(text, article.passages[i], 0.0, group)
            for i in list(q.gold) + own[:TWIN_NEGATIVES]]


def pairs(articles: Sequence[Article], seed: int,
          mined: Mapping[tuple[str, int], Sequence[int]] | None = None,
          mined_negatives: int = 0, perturbed: bool = False) -> list[Pair]:
    """Labelled (question, passage) pairs, shuffled with ``seed``. ``mined``: for each
    (article title, question index), sentences the first stage ranks high, best first
    (:mod:`rag.training.mine`); the first ``mined_negatives`` of them that are not gold and
    not already chosen join the negatives. ``perturbed``: each answerable question also yields,
    where it can, an unanswerable twin (:func:`rag.training.perturb.perturb`) whose gold
    sentence and paragraph are all negatives."""
    rng = random.Random(seed)
    out: list[Pair] = []
    group = 0
    for article in articles:
        vocabulary = swappable(article.text) if perturbed else {}
        vocab = [set(terms(p.sentence)) for p in article.passages]
        df = Counter(t for v in vocab for t in v)
        n = len(vocab)
        idf = {t: math.log((1 + n) / (1 + c)) + 1 for t, c in df.items()}
        for number, q in enumerate(article.questions):
            chosen = list(q.gold)
            own = [i for i in q.paragraph if i not in q.gold]
            rng.shuffle(own)
            chosen += own[:PARAGRAPH_NEGATIVES]
            asked = set(terms(q.text))
            others = [i for i in range(n) if i not in q.paragraph]
            ranked = sorted(others, key=lambda i: (-sum(idf[t] for t in asked & vocab[i]), i))
            chosen += ranked[:TOPIC_NEGATIVES]
            rest = [i for i in others if i not in chosen]
            if rest:
                chosen.append(rng.choice(rest))
            if mined is not None and mined_negatives:
                hard = [i for i in mined.get((article.title, number), ()) if i not in chosen]
                chosen += hard[:mined_negatives]
            out += [Pair(q.text, article.passages[i], float(i in q.gold), group)
                    for i in chosen]
            group += 1
            if perturbed and q.gold:
                twin = _twin(article, q, vocabulary, rng, group)
                out += twin
                group += bool(twin)
    rng.shuffle(out)
    return out
