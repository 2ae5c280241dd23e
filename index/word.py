"""Word documents (.docx) as text: paragraphs and tables in document order, headings kept.

Each paragraph is one block, separated by a blank line; a heading is written as a Markdown
heading (``## Results``), so answering treats it as a title, not as a claim; a table row is one
line of its cells joined by `` | ``. The text built here is the text stored and shown, so every
offset points into it.
"""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from index.errors import SkippedFile

MAX_INFLATION = 20
"""A .docx whose parts unpack to more than this many times the file's size is refused."""
_HEADING = re.compile(r"(?:heading|überschrift|titre)\s*(\d)", re.I)
_SPACES = re.compile(r"[ \t\xa0\u2000-\u200b]+")


def docx_text(data: bytes, source: str) -> str:
    """The text of a .docx file, or SkippedFile saying why it cannot be read."""
    _check_package(data, source)
    try:
        import docx

        document = docx.Document(io.BytesIO(data))
        blocks = [text for item in document.iter_inner_content()
                  if (text := _block(item))]
    except Exception as exc:  # python-docx and lxml raise many kinds on malformed files
        raise SkippedFile(source, f"is not a readable Word document ({type(exc).__name__}: "
                          f"{exc}): open and save it again in Word, or save it as PDF") from exc
    text = "\n\n".join(blocks)
    if not text.strip():
        raise SkippedFile(source, "is a Word document without text")
    return text


def _check_package(data: bytes, source: str) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as package:
            unpacked = sum(info.file_size for info in package.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise SkippedFile(source, "is not a Word document (.docx is a zip package; an old "
                          ".doc file renamed?): save it as .docx or PDF") from exc
    if unpacked > MAX_INFLATION * max(len(data), 1_000_000):
        raise SkippedFile(source, f"unpacks to {unpacked / 1e6:.0f} MB: too large for its "
                          "size; save a plain copy")


def _block(item: Any) -> str:
    """A paragraph's text (a heading marked), or a table's rows; "" when it holds no text."""
    if hasattr(item, "rows"):
        return "\n".join(row for r in item.rows if (row := _row(r)))
    text = _clean(item.text)
    if not text:
        return ""
    style = getattr(getattr(item, "style", None), "name", "") or ""
    if style.lower() == "title":
        return f"# {text}"
    match = _HEADING.match(style)
    return f"{'#' * min(6, int(match.group(1)) + 1)} {text}" if match else text


def _row(row: Any) -> str:
    cells: list[str] = []
    seen: list[Any] = []
    for cell in row.cells:
        if any(cell._tc is other for other in seen):  # a merged cell repeats itself
            continue
        seen.append(cell._tc)
        cells.append(_clean(cell.text).replace("\n", " "))
    return " | ".join(cells) if any(cells) else ""


def _clean(text: str) -> str:
    lines = (_SPACES.sub(" ", line).strip() for line in text.replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)
