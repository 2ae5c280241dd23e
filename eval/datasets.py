"""Evaluation datasets mapped to one case type, with their corpora as plain-text documents.

Every dataset becomes :class:`Dataset`: questions (:class:`Case`) and the documents they are
asked against (:class:`Corpus`, ``file name -> text``). Gold evidence is given as character
spans ``(source, start, end)`` into those texts, where ``source`` is the document's file name
inside its corpus folder; the runner indexes each corpus folder with that folder as the base,
so the indexed source names are exactly these file names.

- ``seed``: our own questions over the seed article (``eval/seed_qa.json``).
- ``unseen``: our frozen test set over six documents of different kinds
  (``eval/unseen/qa.json``, documents in ``eval/unseen/docs``, indexed as they are: Markdown,
  text, HTML, PDF). Written before the reader was trained; never tuned on.
- ``dev``: the development set, 22 other documents in the same format (``eval/dev/qa.json``),
  for choosing between readers and fitting their settings; not in the default report.
- SQuAD format (``xquad``: the 32 XQuAD articles the reader never trained on; ``squad2``:
  ``squad2-dev-small.json``, held out too; or a path): one document per article, its paragraphs
  joined by blank lines; the gold evidence is the sentence(s) holding the answer span.
  SQuAD 2.0 questions marked ``is_impossible`` are unanswerable: the right outcome is a refusal.
- HotpotQA format (``hotpot`` or a path; Hugging Face or original layout): every paragraph is a
  document named after its title; the gold evidence is the ``supporting_facts`` sentences. Two
  settings: ``distractor`` (each question against its own 10 paragraphs, one corpus each) and
  ``open`` (all paragraphs in one corpus).
"""

from __future__ import annotations

import html
import json
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.errors import DatasetError
from index.segment import split_sentences

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "data"
SEED_QA = Path(__file__).resolve().parent / "seed_qa.json"
UNSEEN_QA = Path(__file__).resolve().parent / "unseen" / "qa.json"
DEV_QA = Path(__file__).resolve().parent / "dev" / "qa.json"
SHARED_FILES = {
    "xquad": "xquad.en.json",
    "squad2": "squad2-dev-small.json",
    "hotpot": "hotpot-dev-distractor-first100.json",
}
NAMES = ("seed", "unseen", "xquad", "squad2", "hotpot")

Span = tuple[str, int, int]
"""``(source, start, end)``: characters ``start:end`` of document ``source``."""


@dataclass(frozen=True)
class Case:
    """One question with its gold answers and gold evidence spans."""

    id: str
    question: str
    history: tuple[tuple[str, str], ...]
    answers: tuple[str, ...]
    evidence: tuple[Span, ...]
    answerable: bool
    corpus: str
    """Name of the :class:`Corpus` (collection) the question is asked against."""


@dataclass(frozen=True)
class Corpus:
    """Documents of one collection: file name -> text (the text offsets index)."""

    name: str
    documents: dict[str, str] = field(hash=False)
    originals: dict[str, Path] = field(default_factory=dict, hash=False)
    """Files to index as they are (a PDF, an HTML page) instead of writing their text."""


@dataclass(frozen=True)
class Dataset:
    name: str
    cases: tuple[Case, ...]
    corpora: tuple[Corpus, ...]
    description: str = ""


# -- entry point ---------------------------------------------------------------------------------

def load(name_or_path: str, data_dir: Path | None = None,
         limit: int | None = None) -> list[Dataset]:
    """The dataset(s) a ``--dataset`` value names: ``hotpot`` yields its two settings."""
    data_dir = data_dir or DEFAULT_DATA_DIR
    if name_or_path == "seed":
        return [load_seed(SEED_QA, limit)]
    if name_or_path == "unseen":
        return [load_documents_set(UNSEEN_QA, "unseen", limit)]
    if name_or_path == "dev":
        return [load_documents_set(DEV_QA, "dev", limit)]
    if name_or_path in SHARED_FILES:
        path = data_dir / SHARED_FILES[name_or_path]
        if not path.exists():
            raise DatasetError(f"{path} not found: pass --data-dir (the folder of the shared "
                               f"eval data) or the file's path as --dataset")
        name = name_or_path
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise DatasetError(f"unknown dataset {name_or_path!r}: use one of "
                               f"{', '.join(NAMES)}, dev or the path of a SQuAD/HotpotQA JSON file")
        name = _slug(path.stem)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}") from exc
    try:
        if isinstance(raw, dict) and "data" in raw:
            from rag.training.data import HALF_TITLES, TEST_TITLES

            if name_or_path == "xquad":  # only the articles the reader never saw in training
                raw = {**raw, "data": [a for a in raw["data"]
                                       if a.get("title") not in HALF_TITLES]}
            seen = sorted({str(a.get("title")) for a in raw["data"]} & (HALF_TITLES - TEST_TITLES))
            if seen:
                print(f"note: {path} holds {len(seen)} article(s) the reader was trained or "
                      f"calibrated on ({', '.join(seen[:5])}{', ...' if len(seen) > 5 else ''}): "
                      "its figures on them are not held out", file=sys.stderr)
            return [squad_dataset(raw, name, limit)]
        if (isinstance(raw, list) and raw and isinstance(raw[0], dict)
                and "supporting_facts" in raw[0]):
            return [hotpot_dataset(raw, f"{name}-distractor", "distractor", limit),
                    hotpot_dataset(raw, f"{name}-open", "open", limit)]
    except (KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        raise DatasetError(f"{path} is malformed ({type(exc).__name__}: {exc}): every record "
                           "needs the fields of its format (SQuAD: data/paragraphs/qas; "
                           "HotpotQA: context, supporting_facts); fix the file") from exc
    raise DatasetError(f"{path} is neither SQuAD format (an object with 'data') nor HotpotQA "
                       "format (a list of records with 'supporting_facts')")


# -- seed ----------------------------------------------------------------------------------------

def load_seed(path: Path = SEED_QA, limit: int | None = None) -> Dataset:
    raw = json.loads(path.read_text(encoding="utf-8"))
    source = str(raw["source"])
    text = _clean((ROOT / source).read_text(encoding="utf-8"))
    cases = []
    for item in raw["cases"][:limit]:
        evidence = []
        for sentence in item["evidence"]:
            start = text.find(sentence)
            if start < 0:
                raise DatasetError(f"{item['id']}: evidence not found in {source}: {sentence!r}")
            evidence.append((source, start, start + len(sentence)))
        cases.append(Case(
            str(item["id"]), str(item["question"]),
            tuple((str(q), str(a)) for q, a in item["history"]),
            tuple(map(str, item["answers"])), tuple(evidence), bool(item["answerable"]), "seed",
        ))
    return Dataset("seed", tuple(cases), (Corpus("seed", {source: text}),),
                   str(raw.get("description", "")))


# -- a folder of documents with our own questions -----------------------------------------------

def load_documents_set(path: Path, name: str, limit: int | None = None) -> Dataset:
    """Questions over a folder of documents of any kind we index (``eval/unseen/qa.json``):
    each evidence sentence names its document and is found in the text our loader extracts."""
    from index.load import load_file

    raw = json.loads(path.read_text(encoding="utf-8"))
    folder = ROOT / str(raw["documents"])
    files = {p.name: p for p in sorted(folder.iterdir()) if p.is_file()}
    texts = {src: load_file(p, src, 50_000_000).text for src, p in files.items()}
    cases = []
    for item in raw["cases"][:limit]:
        evidence = []
        for ev in item["evidence"]:
            start = texts[ev["source"]].find(ev["text"])
            if start < 0:
                raise DatasetError(f"{item['id']}: evidence not found in {ev['source']}: "
                                   f"{ev['text']!r}")
            evidence.append((str(ev["source"]), start, start + len(ev["text"])))
        cases.append(Case(
            str(item["id"]), str(item["question"]),
            tuple((str(q), str(a)) for q, a in item["history"]),
            tuple(map(str, item["answers"])), tuple(evidence), bool(item["answerable"]), name))
    return Dataset(name, tuple(cases), (Corpus(name, texts, files),),
                   str(raw.get("description", "")))


# -- SQuAD ---------------------------------------------------------------------------------------

def squad_dataset(raw: dict[str, Any], name: str, limit: int | None = None) -> Dataset:
    """One document per article; gold = the sentence(s) overlapping the answer span."""
    documents: dict[str, str] = {}
    cases: list[Case] = []
    names: set[str] = set()
    for article in raw["data"]:
        if limit is not None and len(cases) >= limit:
            break
        source = unique_file_name(str(article.get("title") or "article"), names)
        parts: list[str] = []
        offsets: list[int] = []
        pos = 0
        for paragraph in article["paragraphs"]:
            context = _clean(str(paragraph["context"]))
            lead = len(context) - len(context.lstrip())
            parts.append(context.strip())
            offsets.append(pos - lead)
            pos += len(parts[-1]) + 2
        text = "\n\n".join(parts)
        documents[source] = text
        sentences = [(s.start, s.end) for s in split_sentences(text)]
        for paragraph, offset in zip(article["paragraphs"], offsets, strict=True):
            for qa in paragraph["qas"]:
                cases.append(_squad_case(qa, source, offset, sentences, name))
    return Dataset(name, tuple(cases[:limit]), (Corpus(name, documents),),
                   f"SQuAD format, {len(documents)} documents")


def _squad_case(qa: dict[str, Any], source: str, offset: int,
                sentences: Sequence[tuple[int, int]], corpus: str) -> Case:
    answers = [a for a in qa.get("answers") or [] if str(a.get("text", "")).strip()]
    answerable = bool(answers) and not qa.get("is_impossible", False)
    evidence: tuple[Span, ...] = ()
    if answerable:
        # the span most annotators chose (the first on a tie)
        votes = Counter((int(a["answer_start"]), str(a["text"])) for a in answers)
        start, text = max(votes, key=lambda k: (votes[k], -list(votes).index(k)))
        lo, hi = offset + start, offset + start + len(text)
        evidence = tuple((source, s, e) for s, e in sentences if s < hi and lo < e)
    texts = tuple(dict.fromkeys(str(a["text"]) for a in answers)) if answerable else ()
    return Case(str(qa["id"]), str(qa["question"]).strip(), (), texts, evidence, answerable,
                corpus)


# -- HotpotQA ------------------------------------------------------------------------------------

def hotpot_dataset(records: Sequence[dict[str, Any]], name: str, setting: str,
                   limit: int | None = None) -> Dataset:
    """``distractor``: one corpus per question (its own paragraphs); ``open``: one for all."""
    if setting not in ("distractor", "open"):
        raise ValueError(setting)
    shared: dict[str, str] = {}
    shared_names: dict[str, str] = {}
    taken: set[str] = set()
    corpora: list[Corpus] = []
    cases: list[Case] = []
    for i, record in enumerate(records[:limit]):
        qid = str(record.get("id") or record.get("_id") or f"{i:04d}")
        corpus = f"{name}-q{i:03d}" if setting == "distractor" else name
        own: dict[str, str] = {}
        own_names: set[str] = set()
        spans: dict[tuple[str, int], Span] = {}
        for title, sentences in hotpot_paragraphs(record):
            text, sentence_spans = paragraph_text(sentences)
            if setting == "open":
                key = f"{title}\x00{text}"
                if key not in shared_names:
                    shared_names[key] = unique_file_name(title, taken)
                    shared[shared_names[key]] = text
                source = shared_names[key]
            else:
                source = unique_file_name(title, own_names)
                own[source] = text
            for j, (s, e) in enumerate(sentence_spans):
                if e > s:
                    spans[(title, j)] = (source, s, e)
        if setting == "distractor":
            corpora.append(Corpus(corpus, own))
        facts = hotpot_facts(record)
        evidence = tuple(dict.fromkeys(spans[f] for f in facts if f in spans))
        answer = str(record.get("answer", ""))
        cases.append(Case(qid, str(record["question"]).strip(), (), (answer,) if answer else (),
                          evidence, True, corpus))
    if setting == "open":
        corpora.append(Corpus(name, shared))
    return Dataset(name, tuple(cases), tuple(corpora), f"HotpotQA, {setting} setting")


def hotpot_paragraphs(record: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """``(title, sentences)`` pairs, from the Hugging Face or the original layout."""
    context = record["context"]
    pairs: Iterable[tuple[Any, Any]]
    if isinstance(context, dict):
        pairs = zip(context["title"], context["sentences"], strict=True)
    else:
        pairs = ((p[0], p[1]) for p in context)
    return [(html.unescape(str(t)), [str(s) for s in sents]) for t, sents in pairs]


def hotpot_facts(record: dict[str, Any]) -> list[tuple[str, int]]:
    facts = record["supporting_facts"]
    if isinstance(facts, dict):
        pairs: Iterable[Any] = zip(facts["title"], facts["sent_id"], strict=True)
    else:
        pairs = facts
    return [(html.unescape(str(t)), int(j)) for t, j in pairs]


def paragraph_text(sentences: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """Sentences joined by one space (white space normalised) and the span of each."""
    parts: list[str] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    for sentence in sentences:
        clean = " ".join(_clean(sentence).split())
        if not clean:
            spans.append((pos, pos))
            continue
        if parts:
            pos += 1
        spans.append((pos, pos + len(clean)))
        parts.append(clean)
        pos += len(clean)
    return " ".join(parts), spans


# -- helpers -------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"[^\w .,()'&+!-]+")


def unique_file_name(title: str, taken: set[str]) -> str:
    """A safe ``.txt`` file name for ``title``, unlike any in ``taken`` (lower-cased names,
    which it joins): case-insensitive file systems must not merge two documents."""
    base = _UNSAFE.sub("_", html.unescape(title)).strip(" ._") or "document"
    base = base[:100].rstrip(" .")
    name, n = f"{base}.txt", 2
    while name.lower() in taken:
        name, n = f"{base}-{n}.txt", n + 1
    taken.add(name.lower())
    return name


def _clean(text: str) -> str:
    """Text that reads back unchanged from a UTF-8 file with universal newlines."""
    return text.replace("\r\n", " \n").replace("\r", " ").replace("\x00", " ")


def _slug(stem: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9-]+", "-", stem).strip("-").lower()
    return (slug or "dataset")[:30]
