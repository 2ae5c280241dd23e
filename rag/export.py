"""An answer as plain text (to copy), and a conversation as Markdown (to keep or share).

Each citation gives its document, the page where known, and the quoted sentence; the same
Markdown comes from the chat's "Download conversation" and from ``rag chat --save FILE``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from rag.markup import render
from rag.types import Answer, Citation


def plain_text(answer: Answer) -> str:
    """The answer with its numbered citations, as plain text."""
    lines = [render(answer.parts, bold=False)]
    if answer.notice:
        lines.insert(0, f"Note: {answer.notice}")
    if answer.citations:
        lines.append("")
        lines += [f"[{c.n}] {c.where}: \"{_one_line(c.text)}\"" for c in answer.citations]
    return "\n".join(lines)


def conversation_markdown(answers: Sequence[Answer], saved_at: float | None = None) -> str:
    """The conversation as Markdown: each question, its answer, and its citations."""
    when = time.strftime("%Y-%m-%d %H:%M",
                         time.localtime(time.time() if saved_at is None else saved_at))
    names = sorted({a.collection for a in answers})
    where = ", ".join(f"“{n}”" for n in names) if names else "none"
    parts = [f"# Conversation\n\nCollection: {where}. Saved {when}."]
    parts += [exchange_markdown(n, answer) for n, answer in enumerate(answers, start=1)]
    return "\n\n".join(parts) + "\n"


def exchange_markdown(n: int, answer: Answer) -> str:
    """One question with its answer and citations."""
    parts = [f"## {n}. {_one_line(answer.question)}"]
    if answer.notice:
        parts.append(f"*Note: {_one_line(answer.notice)}*")
    parts.append(_quote_free(answer.text))
    if answer.citations:
        parts.append("Citations:\n\n" + "\n".join(_citation(c) for c in answer.citations))
    return "\n\n".join(parts)


def _citation(c: Citation) -> str:
    source = c.source.replace("`", "'")
    head = f"[{c.n}] `{source}`"
    if c.page is not None:
        head += f", p. {c.page}"
    head += f", characters {c.start}–{c.end}"
    quoted = "\n".join(f"  > {line}" for line in c.text.splitlines() or [""])
    return f"- {head}\n\n{quoted}"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _quote_free(text: str) -> str:
    """Answer text as a paragraph: lines that Markdown would read as headings or quotes are
    kept as text."""
    return "\n".join(f"\\{line}" if line.lstrip()[:1] in ("#", ">") else line
                     for line in text.splitlines())
