"""Questions answered while the same collection is re-indexed get a consistent state.

One Engine answers a fixed set of questions from 4 threads in a loop while another thread
re-indexes the collection from version A of a corpus to version B (a changed fact, a removed
file, an added file; the rest unchanged). The indexer is paused at three points (after its
first write, after its last write but before it switches the collection version, and right
after the switch, before it deletes the old versions) until every reader has asked every
question once more, so each window is covered on any machine speed; between the pauses it runs
freely. Every answer is kept with the phase it started and ended in, and checked afterwards.

A second Engine first opens the collection in the middle of the run: it must see all of A.

The design under test (index/versions.py, index/store.py, rag/retrieve.py): a run writes every
new document version (chunks and sentences, then a document record of its own) under the next
generation and marks what it replaces as gone from that generation; readers take the document
records live at the committed generation and keep only the records those own; the run commits
its generation in one write (the switch) and then deletes what it replaced.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

import index.build as build
from index.build import Indexer
from index.embed import Embedder
from index.errors import StoreUnavailable
from index.store import Store
from rag.pipeline import Engine
from rag.settings import Settings
from rag.types import Answer

COLLECTION = "serving"
READERS = 4
WAIT_S = 120.0

ZORBLAX_A = (
    "The Zorblax bridge crosses the Vellin river in the town of Orrick. "
    "The Zorblax bridge opened in 1987. "
    "The Zorblax bridge was designed by the engineer Marta Kessel. "
    "The main span of the Zorblax bridge is 412 metres long. "
    "The bridge carries four lanes of traffic and a cycle path.\n"
)
ZORBLAX_B = ZORBLAX_A.replace("opened in 1987", "opened in 1991")
QUENFIELD = (  # only in A
    "The Quenfield lighthouse stands on a rocky point north of the harbour. "
    "The Quenfield lighthouse is 48 metres tall. "
    "Its lamp was first lit in 1902 by the keeper Tomas Brell.\n"
)
HARLOW = (  # only in B
    "The Harlow tram museum opened its doors in 2004. "
    "The Harlow tram museum holds eleven restored trams from the city's old network.\n"
)
UNCHANGED = {
    "apollo.txt": (
        "The Apollo program was the third United States human spaceflight program carried out "
        "by NASA. It accomplished landing the first humans on the Moon from 1969 to 1972. "
        "Apollo used the Saturn family of rockets as launch vehicles.\n"
    ),
    "rhine.txt": (
        "The Rhine is a European river that begins in the Swiss canton of Graubünden. "
        "It flows into the North Sea in the Netherlands. "
        "The Rhine is about 1,230 kilometres long.\n"
    ),
    "amazon.txt": (
        "The Amazon rainforest covers much of the Amazon basin of South America. "
        "The basin encompasses seven million square kilometres. "
        "The majority of the forest is contained within Brazil.\n"
    ),
}
VERSION_A = {"zorblax.txt": ZORBLAX_A, "quenfield.txt": QUENFIELD, **UNCHANGED}
VERSION_B = {"zorblax.txt": ZORBLAX_B, "harlow.txt": HARLOW, **UNCHANGED}

OPENED = "When did the Zorblax bridge open?"  # the changed fact
QUESTIONS = [
    OPENED,
    "Who designed the Zorblax bridge?",  # an unchanged sentence of the changed file
    "How tall is the Quenfield lighthouse?",  # the removed file
    "When did the Harlow tram museum open?",  # the added file
    "How long is the Rhine?",  # an unchanged file
]
PRE_SWITCH = ("A", "indexing", "mid-run", "indexing-2", "before-switch")
POST_SWITCH = ("after-switch", "cleanup", "B")

Key = tuple[bool, tuple[tuple[str, int, int, str], ...]]


def key(answer: Answer) -> Key:
    """What must agree between two answers: refused or not, and the exact citations."""
    return answer.refused, tuple((c.source, c.start, c.end, c.text) for c in answer.citations)


def write(folder: Path, version: dict[str, str]) -> None:
    for old in folder.glob("*.txt"):
        if old.name not in version:
            old.unlink()
    for name, text in version.items():
        (folder / name).write_text(text, encoding="utf-8")


@dataclass
class Asked:
    reader: int
    question: str
    started: str
    ended: str
    answer: Answer | None
    error: str | None


@dataclass
class Scenario:
    single_a: dict[str, Key]
    single_b: dict[str, Key]
    asked: list[Asked]
    fresh_mid_run: dict[str, Key]
    """Answers of a second Engine first opened in the middle of the run."""
    phases: list[str] = field(default_factory=list)


class Readers:
    """READERS threads asking QUESTIONS in a loop until stopped; the indexer's phase is shared."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.phase = "A"
        self.asked: list[Asked] = []
        self.rounds = [0] * READERS
        self.stop = threading.Event()
        self.cond = threading.Condition()
        self.threads = [threading.Thread(target=self._loop, args=(i,), daemon=True)
                        for i in range(READERS)]

    def _loop(self, reader: int) -> None:
        order = QUESTIONS[reader % len(QUESTIONS):] + QUESTIONS[:reader % len(QUESTIONS)]
        while not self.stop.is_set():
            for question in order:
                started = self.phase
                answer, error = None, None
                try:
                    answer = self.engine.ask(question, None, COLLECTION)
                except Exception as exc:  # every error is a failure: keep it to report
                    error = f"{type(exc).__name__}: {exc}"
                with self.cond:
                    self.asked.append(Asked(reader, question, started, self.phase, answer, error))
            with self.cond:
                self.rounds[reader] += 1
                self.cond.notify_all()

    def checkpoint(self, phase: str) -> None:
        """Enter ``phase`` and wait until every reader has asked every question in it."""
        with self.cond:
            self.phase = phase
            # a round in progress began before the phase: wait for the one after it
            target = [r + 2 for r in self.rounds]
            ok = self.cond.wait_for(
                lambda: all(r >= t for r, t in zip(self.rounds, target, strict=True))
                or not any(t.is_alive() for t in self.threads), timeout=WAIT_S)
        assert ok, f"readers did not finish a round in phase {phase} within {WAIT_S} s"

    def __enter__(self) -> Readers:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=WAIT_S)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> Iterator[Scenario]:
    root = tmp_path_factory.mktemp("serving")
    folder = root / "docs"
    folder.mkdir()
    write(folder, VERSION_A)
    engine = Engine(Settings(data_dir=root / "data"), embedder=embedder)
    engine.index([folder], COLLECTION, base=folder)
    single_a = {q: key(engine.ask(q, None, COLLECTION)) for q in QUESTIONS}

    fresh: dict[str, Key] = {}
    flush: Callable[..., None] = Indexer._flush
    commit: Callable[[Store, int], None] = Store.commit
    readers = Readers(engine)

    def paused_flush(self: Indexer, store: Store, pending: list[Any], run: Any) -> None:
        wrote = bool(pending)
        flush(self, store, pending, run)
        if wrote and readers.phase == "indexing":
            readers.checkpoint("mid-run")
            # a reader that opens the collection now (a new process, a first question)
            other = Engine(engine.settings, embedder=embedder, client=engine.client)
            fresh.update({q: key(other.ask(q, None, COLLECTION)) for q in QUESTIONS})
            readers.phase = "indexing-2"

    def paused_commit(self: Store, *args: Any) -> None:
        readers.checkpoint("before-switch")
        commit(self, *args)
        readers.checkpoint("after-switch")
        readers.phase = "cleanup"

    with pytest.MonkeyPatch.context() as mp, readers:
        mp.setattr(build, "_BATCH_SENTENCES", 1)  # one write per document: a mid-run state
        mp.setattr(Indexer, "_flush", paused_flush)
        mp.setattr(Store, "commit", paused_commit)
        write(folder, VERSION_B)
        readers.checkpoint("A")
        readers.phase = "indexing"
        report = engine.index([folder], COLLECTION, base=folder)
        assert report.indexed == 2 and report.removed == 1 and report.unchanged == 3, report
        readers.checkpoint("B")
    single_b = {q: key(engine.ask(q, None, COLLECTION)) for q in QUESTIONS}
    yield Scenario(single_a, single_b, readers.asked, fresh)


def test_the_corpus_versions_answer_differently(scenario: Scenario) -> None:
    """The fixture's own check: A and B answer the question set as designed."""
    a, b = scenario.single_a, scenario.single_b
    assert "1987" in a[OPENED][1][0][3] and "1991" in b[OPENED][1][0][3], (a[OPENED], b[OPENED])
    assert not a[QUESTIONS[2]][0] and b[QUESTIONS[2]][0], "the lighthouse: answered, then not"
    assert a[QUESTIONS[3]][0] and not b[QUESTIONS[3]][0], "the tram museum: not, then answered"
    assert a[QUESTIONS[1]] == b[QUESTIONS[1]] and not a[QUESTIONS[1]][0]
    phases = {x.started for x in scenario.asked}
    assert {"A", "mid-run", "before-switch", "after-switch", "B"} <= phases, phases


def test_every_answer_cites_one_version_verbatim(scenario: Scenario) -> None:
    """No errors; each citation is a verbatim slice of its document in A or in B, and all the
    citations of one answer fit the same version; once the run is done, answers are B's."""
    errors = [x for x in scenario.asked if x.error is not None]
    assert not errors, errors[:5]
    for x in scenario.asked:
        assert x.answer is not None
        fits = {"A", "B"}
        for c in x.answer.citations:
            ok = {name for name, version in (("A", VERSION_A), ("B", VERSION_B))
                  if version.get(c.source, "\0")[c.start:c.end] == c.text}
            assert ok, f"{x.question!r} cites {c} which is in neither version"
            fits &= ok
        assert fits, f"{x.question!r} in phase {x.started} mixes versions: {x.answer.citations}"
        if x.started == "B":
            assert key(x.answer) == scenario.single_b[x.question], x
    opened = [x for x in scenario.asked if x.question == OPENED and x.started == "B"]
    assert opened and all("1991" in x.answer.text for x in opened if x.answer)


def test_answers_are_the_old_or_the_new_answer(scenario: Scenario) -> None:
    """Stricter: until the switch a reader's answers are exactly the single-user A answers,
    after it exactly the B ones (an answer that spans the switch may be either)."""
    wrong = []
    for x in scenario.asked:
        assert x.answer is not None
        got = key(x.answer)
        a, b = scenario.single_a[x.question], scenario.single_b[x.question]
        if x.started == x.ended and x.started in PRE_SWITCH:
            expected = [a]
        elif x.started == x.ended and x.started in POST_SWITCH:
            expected = [b]
        else:
            expected = [a, b]
        if got not in expected:
            wrong.append((x.started, x.ended, x.question, got, expected))
    assert not wrong, "\n".join(map(str, wrong[:8])) + f"\n({len(wrong)} in all)"


def test_a_reader_opening_mid_run_sees_one_version(scenario: Scenario) -> None:
    """A reader that first opens the collection between two writes of a run gets all of A or
    all of B, not the documents written so far beside the old ones."""
    fresh = scenario.fresh_mid_run
    assert fresh, "the run was never paused between two writes"
    assert fresh in (scenario.single_a, scenario.single_b), {
        q: ("A" if fresh[q] == scenario.single_a[q] else
            "B" if fresh[q] == scenario.single_b[q] else fresh[q]) for q in QUESTIONS}



def test_a_serving_process_says_what_to_do_after_another_process_reindexes(
        tmp_path: Path, embedder: Embedder) -> None:
    """With the embedded database, a commit by another process cannot be read by a process
    that already serves the collection: it says so (restart, or use a Chroma server) instead
    of failing with a store error, and a fresh process sees the new state."""
    import os
    import subprocess
    import sys

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "zorblax.txt").write_text(ZORBLAX_A)
    data = tmp_path / "data"
    engine = Engine(Settings(data_dir=data), embedder=embedder)
    engine.index([docs], COLLECTION)
    question = "When did the Zorblax bridge open?"
    assert "1987" in engine.ask(question, None, COLLECTION).text
    (docs / "zorblax.txt").write_text(ZORBLAX_B)
    rag = Path(sys.executable).parent / "rag"
    env = dict(os.environ, RAG_DATA_DIR=str(data))
    subprocess.run([str(rag), "index", str(docs), "--collection", COLLECTION, "--quiet"],
                   check=True, env=env, capture_output=True, timeout=300)
    with pytest.raises(StoreUnavailable, match=r"re-indexed by another process.*RAG_CHROMA_URL"):
        engine.ask(question, None, COLLECTION)
    fresh = subprocess.run([str(rag), "ask", question, "--collection", COLLECTION], env=env,
                           capture_output=True, text=True, timeout=300, check=True)
    assert "1991" in fresh.stdout
