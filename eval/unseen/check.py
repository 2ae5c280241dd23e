"""Check a documents QA set (eval/unseen/qa.json by default) against its documents.

Loads every document with the project's own loader (index.load.load_file) and sentence splitter
(index.segment.split_sentences), then asserts that:
- every evidence text is one split sentence, or a contiguous run of them, of its named source;
- ids are unique, kinds are known and consistent with answerable/history/answers/evidence;
- every history is a list of [question, answer] pairs of strings;
- the kind counts meet the minimums, and every document has at least 10 cases;
- the PDF rebuilds byte for byte from eval/unseen/make_pdf.py.
Gold answers that do not appear verbatim in their evidence (ignoring case and white space) are
listed as notes, not errors: some answers are computed ("15 million dollars") or are a yes/no.

The set's unanswerable cases name the document they ask about in its top-level "topics" (the
unseen set: TOPIC below); the five document kinds the issue requires are checked for the unseen
set only.

Run from the repository root:  .venv/bin/python eval/unseen/check.py [eval/dev/qa.json]
"""

from __future__ import annotations

import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from index.load import load_file  # noqa: E402
from index.segment import split_sentences  # noqa: E402
from index.types import Sentence  # noqa: E402

QA = HERE / "qa.json"
MIN_KINDS = {"answerable": 40, "near-miss": 18, "follow-up": 12}
MIN_TOTAL = 70
MIN_PER_DOCUMENT = 10
REQUIRED_DOCS = ("espresso-manual.md", "remote-work-policy.txt", "soil-microbes-abstract.txt",
                 "harbor-bridge-news.html", "lindqvist-history.pdf")

# The document each unanswerable case asks about (they have no evidence to name it).
TOPIC = {
    "unseen-012": "espresso-manual.md",
    "unseen-013": "espresso-manual.md",
    "unseen-014": "espresso-manual.md",
    "unseen-015": "espresso-manual.md",
    "unseen-029": "remote-work-policy.txt",
    "unseen-030": "remote-work-policy.txt",
    "unseen-031": "remote-work-policy.txt",
    "unseen-032": "remote-work-policy.txt",
    "unseen-036": "remote-work-policy.txt",
    "unseen-047": "soil-microbes-abstract.txt",
    "unseen-048": "soil-microbes-abstract.txt",
    "unseen-049": "soil-microbes-abstract.txt",
    "unseen-050": "soil-microbes-abstract.txt",
    "unseen-053": "soil-microbes-abstract.txt",
    "unseen-065": "harbor-bridge-news.html",
    "unseen-066": "harbor-bridge-news.html",
    "unseen-067": "harbor-bridge-news.html",
    "unseen-068": "harbor-bridge-news.html",
    "unseen-083": "lindqvist-history.pdf",
    "unseen-084": "lindqvist-history.pdf",
    "unseen-085": "lindqvist-history.pdf",
    "unseen-086": "lindqvist-history.pdf",
    "unseen-090": "lindqvist-history.pdf",
    "unseen-102": "garden-agm-minutes.txt",
    "unseen-103": "garden-agm-minutes.txt",
    "unseen-104": "garden-agm-minutes.txt",
    "unseen-105": "garden-agm-minutes.txt",
}


def _norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip().lower()


def _is_pair(turn: object) -> bool:
    """A history turn: ``[question, answer]``, both non-empty strings."""
    return (isinstance(turn, list) and len(turn) == 2
            and all(isinstance(x, str) and x.strip() for x in turn))


def _runs(text: str, sentences: list[Sentence]) -> set[str]:
    """Every sentence and every contiguous run of up to 3 sentences, as document text."""
    out = set()
    for i in range(len(sentences)):
        for j in range(i, min(i + 3, len(sentences))):
            out.add(text[sentences[i].start:sentences[j].end])
    return out


def main(qa: Path = QA) -> int:
    data = json.loads(qa.read_text(encoding="utf-8"))
    errors: list[str] = []
    notes: list[str] = []
    if set(data) - {"topics"} != {"description", "documents", "cases"}:
        errors.append(f"top-level keys {sorted(data)}")
    unseen = qa.resolve() == QA
    topic = data.get("topics", TOPIC if unseen else {})
    docs_dir = ROOT / data["documents"]
    files = sorted(p for p in docs_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    names = {p.name for p in files}
    for name in REQUIRED_DOCS if unseen else ():
        if name not in names:
            errors.append(f"missing document {name}")

    runs: dict[str, set[str]] = {}
    single: dict[str, set[str]] = {}
    for path in files:
        doc = load_file(path, path.name, 10**9)
        sentences = split_sentences(doc.text, path.name)
        single[path.name] = {s.text for s in sentences}
        runs[path.name] = _runs(doc.text, sentences)
        print(f"{path.name:28} {doc.kind:4} {len(doc.text.split()):4} words "
              f"{len(sentences):3} sentences")
        if re.search(r"&(#\d+|#x[0-9a-f]+|[a-z]+);", doc.text, re.I):
            errors.append(f"{path.name}: HTML entity left in the extracted text")

    pdf = HERE / "docs" / "lindqvist-history.pdf"
    if pdf.exists():
        sys.path.insert(0, str(HERE))
        import make_pdf

        with tempfile.TemporaryDirectory() as tmp:
            again = make_pdf.build(Path(tmp) / "again.pdf").read_bytes()
        if again != pdf.read_bytes():
            errors.append("lindqvist-history.pdf differs from what make_pdf.py writes now")

    seen: set[str] = set()
    kinds: Counter[str] = Counter()
    per_doc: Counter[str] = Counter()
    per_doc_kind: Counter[tuple[str, str]] = Counter()
    unanswerable_ids: set[str] = set()
    multi = 0
    for case in data["cases"]:
        cid = case.get("id", "?")
        if list(case) != ["id", "question", "history", "answers", "evidence", "answerable", "kind"]:
            errors.append(f"{cid}: keys {list(case)}")
            continue
        if cid in seen:
            errors.append(f"{cid}: duplicate id")
        seen.add(cid)
        kind, answerable, history = case["kind"], case["answerable"], case["history"]
        if kind not in MIN_KINDS:
            errors.append(f"{cid}: unknown kind {kind!r}")
        kinds[kind] += 1
        if not isinstance(case["question"], str) or not case["question"].strip():
            errors.append(f"{cid}: empty question")
        if not isinstance(history, list) or not all(_is_pair(t) for t in history):
            errors.append(f"{cid}: history must be a list of [question, answer] string pairs")
        if (kind == "follow-up") != bool(history):
            errors.append(f"{cid}: follow-ups, and only they, have a history")
        if not isinstance(answerable, bool):
            errors.append(f"{cid}: answerable must be true or false")
        if kind == "answerable" and not answerable:
            errors.append(f"{cid}: kind answerable but answerable is false")
        if kind == "near-miss" and answerable:
            errors.append(f"{cid}: near-miss cases must be unanswerable")
        if not answerable:
            unanswerable_ids.add(cid)
            if case["answers"] or case["evidence"]:
                errors.append(f"{cid}: unanswerable case with answers or evidence")
            source = topic.get(cid, "")
            if source not in names:
                errors.append(f"{cid}: no topic document for this unanswerable case")
            per_doc[source] += 1
            per_doc_kind[(source, kind)] += 1
            continue
        answers = case["answers"]
        if not answers or not all(isinstance(a, str) and a.strip() for a in answers):
            errors.append(f"{cid}: answerable case needs non-empty answers")
        if not case["evidence"]:
            errors.append(f"{cid}: answerable case needs evidence")
            continue
        if len(case["evidence"]) > 1:
            multi += 1
        sources = set()
        for item in case["evidence"]:
            source, text = item.get("source"), item.get("text")
            if set(item) != {"source", "text"} or source not in names:
                errors.append(f"{cid}: bad evidence item {item!r}")
                continue
            sources.add(source)
            if text in single[source]:
                continue
            if text in runs[source]:
                notes.append(f"{cid}: evidence is a run of several sentences")
                continue
            errors.append(f"{cid}: evidence is not a sentence of {source}: {text!r}")
        for source in sources:
            per_doc[source] += 1
            per_doc_kind[(source, kind)] += 1
        joined = _norm(" ".join(item["text"] for item in case["evidence"]))
        if not any(_norm(a) in joined for a in case["answers"]):
            notes.append(f"{cid}: no gold answer appears verbatim in the evidence "
                         f"{case['answers']!r}")

    if set(topic) != unanswerable_ids:
        errors.append(f"topic ids differ from the unanswerable ids: "
                      f"{sorted(set(topic) ^ unanswerable_ids)}")
    for kind, least in MIN_KINDS.items():
        if kinds[kind] < least:
            errors.append(f"only {kinds[kind]} {kind} cases, need {least}")
    if len(data["cases"]) < MIN_TOTAL:
        errors.append(f"only {len(data['cases'])} cases, need {MIN_TOTAL}")
    for name in names:
        if per_doc[name] < MIN_PER_DOCUMENT:
            errors.append(f"{name}: only {per_doc[name]} cases, need {MIN_PER_DOCUMENT}")

    follow_unans = sum(1 for c in data["cases"] if c["kind"] == "follow-up" and not c["answerable"])
    print(f"\n{len(data['cases'])} cases: " + ", ".join(f"{k} {kinds[k]}" for k in MIN_KINDS)
          + f" (follow-ups unanswerable: {follow_unans}; answerable with 2+ evidence sentences: "
          f"{multi})")
    print(f"{'document':28} {'total':>5} " + " ".join(f"{k:>10}" for k in MIN_KINDS))
    for name in sorted(names):
        print(f"{name:28} {per_doc[name]:5} "
              + " ".join(f"{per_doc_kind[(name, k)]:10}" for k in MIN_KINDS))
    for note in notes:
        print("note:", note)
    for err in errors:
        print("ERROR:", err)
    print("FAILED" if errors else "OK: all checks passed")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else QA))
