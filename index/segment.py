"""Split text into sentences with exact character offsets.

Rules, in order:
- blank lines end a sentence; so do line breaks before a list item or heading, after a heading,
  and after a short line (a title, a date line, a byline);
- inside a block, ``. ! ? …`` (with any closing quotes or brackets) followed by white space and
  an upper-case letter, digit or opening quote end a sentence, unless the word before the period
  is an abbreviation ("Jan.", "Dr.", "e.g."), an initial ("J. Smith") or a dotted acronym
  ("U.S.") that is not followed by a common sentence opener;
- a period inside a number ("3.5", "1.2.3") never ends a sentence (no white space follows it).

Every sentence satisfies ``text[s.start:s.end] == s.text`` and has no surrounding white space.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from index.types import Sentence

ABBREVIATIONS = frozenset(
    """
    mr mrs ms dr prof sr jr st gen col lt sgt capt cmdr adm gov sen rep pres rev hon messrs
    inc ltd co corp llc plc bros dept univ assn est approx vs etc al cf ibid viz
    jan feb mar apr jun jul aug sep sept oct nov dec mon tue tues wed thu thur thurs fri sat sun
    no nos vol vols fig figs pp p ch sec art para eq ed eds op mt ft ave blvd rd hwy
    a.m p.m e.g i.e u.s u.k u.n e.u a.d b.c
    """.split()
)
"""Words that end with a period without ending a sentence (lower case, without the last dot)."""

SENTENCE_OPENERS = frozenset(
    """
    the a an he she it they we i you this that these those there his her its their our in on at
    but and so yet however meanwhile also after before when while if as for since then now
    """.split()
)
"""After an ambiguous abbreviation such as "U.S.", these words start a new sentence."""

_BLOCK_BREAK = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*•▪‣–]|\d{1,3}[.)]|[a-zA-Z][.)])[ \t]+\S")
_HEADING = re.compile(r"[ \t]*#{1,6}[ \t]")
_END = re.compile(r"""(?<![.!?…])([.!?…]++)(["'”’»)\]]*+)(?=\s)""")
"""A run of end marks is tried once, from its start, and never backtracked into: a long run
("....") costs its length, not its length squared."""
_NEXT_START = re.compile(r"""\s+(["'“‘«(\[]*)(\S)""")
_WORD_BEFORE = re.compile(r"""([\w.'’-]+)$""")
_NEXT_WORD = re.compile(r"[\w']+")
_LOOKBACK = 64
_SHORT_LINE = 60


def split_sentences(text: str, source: str = "") -> list[Sentence]:
    """Return the sentences of ``text`` in order, with offsets into ``text``."""
    spans = [span for block in _blocks(text) for span in _split_block(text, *block)]
    out: list[Sentence] = []
    for start, end in spans:
        start, end = _strip(text, start, end)
        if end > start and any(ch.isalnum() for ch in text[start:end]):
            out.append(Sentence(source, len(out), start, end, text[start:end]))
    return out


def _blocks(text: str) -> Iterator[tuple[int, int]]:
    """Spans separated by blank lines, then split at structural line breaks."""
    pos = 0
    for m in _BLOCK_BREAK.finditer(text):
        yield from _lines_to_units(text, pos, m.start())
        pos = m.end()
    yield from _lines_to_units(text, pos, len(text))


def _lines_to_units(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Within one block, a line break is a boundary only where the layout says so."""
    unit_start = start
    line_start = start
    while True:
        nl = text.find("\n", line_start, end)
        if nl < 0:
            break
        line = text[line_start:nl]
        nxt_end = text.find("\n", nl + 1, end)
        nxt = text[nl + 1 : end if nxt_end < 0 else nxt_end]
        if _is_line_boundary(line, nxt):
            yield unit_start, nl
            unit_start = nl + 1
        line_start = nl + 1
    yield unit_start, end


def _is_line_boundary(line: str, nxt: str) -> bool:
    stripped = line.strip()
    if not stripped or not nxt.strip():
        return True
    if _LIST_ITEM.match(nxt) or _HEADING.match(nxt) or _HEADING.match(line):
        return True
    if stripped[-1] in ".!?…:\"”'’":
        return True
    if _LIST_ITEM.match(line) and not nxt[:1].isspace():
        return True
    first = nxt.lstrip()[:1]
    return len(stripped) < _SHORT_LINE and (first.isupper() or first.isdigit() or first in "\"“‘'(")


def _split_block(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    block = text[start:end]
    sent_start = 0
    for m in _END.finditer(block):
        cut = m.end()
        nm = _NEXT_START.match(block, cut)
        if nm is None:
            continue
        first = nm.group(2)
        if not (first.isupper() or first.isdigit() or nm.group(1)):
            continue
        plain_period = m.group(1) == "." and not m.group(2)
        if plain_period and _is_abbreviation(block, m.start(), nm.end() - 1):
            continue
        yield start + sent_start, start + cut
        sent_start = nm.start(1)
    yield start + sent_start, end


def _word_before(block: str, dot: int) -> re.Match[str] | None:
    """The run of word characters that ends at ``dot``, searched in a window that doubles
    while the run fills it (a search from the block's start costs the block's length at every
    period)."""
    width = _LOOKBACK
    while True:
        lo = max(0, dot - width)
        wm = _WORD_BEFORE.search(block, lo, dot)
        if wm is None or wm.start() > lo or lo == 0:
            return wm
        width *= 2


def _is_abbreviation(block: str, dot: int, next_word_at: int) -> bool:
    wm = _word_before(block, dot)
    if wm is None:
        return False
    word = wm.group(1).strip("'’-").lower()
    if not word:
        return False
    next_word = _NEXT_WORD.match(block, next_word_at)
    opener = next_word is not None and next_word.group(0).lower() in SENTENCE_OPENERS
    if "." in word:
        # dotted acronym or abbreviation ("U.S", "e.g"): a sentence ends only before an opener
        return not opener
    if len(word) == 1 and word.isalpha():
        return not opener or word.isupper()  # an initial: "J. Smith"
    if word in ABBREVIATIONS:
        # "Jan. 20" never ends; "Dr. Smith" never ends; "etc. The" ends
        return word not in {"etc", "al", "inc", "ltd", "co", "corp"} or not opener
    return False


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
