"""Load files into Documents: .txt, .md, .html, .pdf, .docx.

A file that cannot be loaded raises :class:`SkippedFile` with a one-line reason; callers skip it
and go on. For .txt and .md the text is the file decoded as UTF-8 with universal newlines, exactly
what ``open(path).read()`` returns, so a citation can be checked with a slice of the file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import stat
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path, PurePosixPath

from index.errors import PathNotFound, SkippedFile
from index.types import Document
from index.word import docx_text

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
PDF_SUFFIXES = frozenset({".pdf"})
WORD_SUFFIXES = frozenset({".docx"})
SUPPORTED = TEXT_SUFFIXES | HTML_SUFFIXES | PDF_SUFFIXES | WORD_SUFFIXES


def has_pages(source: str) -> bool:
    """Whether the document of this source name is read page by page (a PDF: only those get
    page offsets, :func:`load_file`)."""
    return PurePosixPath(source).suffix.lower() in PDF_SUFFIXES

_BLOCK_TAGS = (
    "p div section article header footer aside nav main li ul ol dl dt dd table tr td th "
    "h1 h2 h3 h4 h5 h6 pre blockquote figure figcaption br hr title form"
).split()
_BLOCK_SET = frozenset(_BLOCK_TAGS)
_HIDDEN_TAGS = frozenset({"script", "style", "noscript", "template", "head", "svg"})


def discover(paths: list[Path],
             skipped: list[tuple[str, str]] | None = None) -> Iterator[tuple[Path, Path]]:
    """Yield ``(file, root)`` for every file under ``paths``; hidden files and folders skipped.

    Symbolic links to folders are not followed (no loops); a folder that cannot be listed is
    added to ``skipped`` with the reason, and the walk goes on."""
    for path in paths:
        if not os.path.lexists(path):
            raise PathNotFound(text_name(str(path)))
        if not path.is_dir():
            yield path, path.parent
            continue

        for dirpath, dirnames, filenames in os.walk(path, onerror=_unreadable(skipped)):
            dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
            for name in sorted(filenames):
                if not name.startswith("."):
                    yield Path(dirpath) / name, path


def _unreadable(skipped: list[tuple[str, str]] | None) -> Callable[[OSError], None]:
    def note(exc: OSError) -> None:
        if skipped is not None:
            name = text_name(str(exc.filename))
            skipped.append((name, f"folder cannot be read ({exc.strerror or exc}): skipped"))
    return note


def text_name(name: str) -> str:
    """``name`` as valid Unicode text: a byte that is not UTF-8 in a file name (Python keeps it
    as a lone surrogate) is written as ``\\xNN``, so the name is stable and storable."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return os.fsencode(name).decode("utf-8", "backslashreplace")
    return name


class SourceNames:
    """The stable name of each file of a run: relative to ``base`` (the working folder) when
    inside it, else relative to the indexed folder it was found in; each folder is resolved
    once."""

    def __init__(self, base: Path) -> None:
        self.base = base.resolve()
        self._roots: dict[Path, Path] = {}

    def __call__(self, file: Path, root: Path) -> str:
        return self.locate(file, root)[0]

    def locate(self, file: Path, root: Path) -> tuple[str, str]:
        """The source name of ``file``, and the folder it is named relative to: the base when
        the file is inside it, else the indexed folder it was found in."""
        anchor = self._roots.get(root)
        if anchor is None:
            anchor = self._roots[root] = _resolve(root)
        name, folder = _relative(_resolve(file), (self.base, anchor), file.name)
        return text_name(name), text_name(str(folder or anchor))


def _resolve(path: Path) -> Path:
    """``path`` made absolute with links resolved, or only absolute when a link loops."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # a symbolic link loop
        return Path.cwd() / path


def _relative(resolved: Path, anchors: tuple[Path, Path],
              fallback: str) -> tuple[str, Path | None]:
    """``resolved`` relative to the first anchor it lies in, and that anchor."""
    for anchor in anchors:
        try:
            return resolved.relative_to(anchor).as_posix(), anchor
        except ValueError:
            continue
    return fallback, None


def regular_size(file: Path, source: str) -> int:
    """The size of ``file``, or SkippedFile when it is not a regular file that can be read (a
    pipe, device or socket would block or never end; a link may loop)."""
    try:
        info = file.stat()
    except OSError as exc:
        raise SkippedFile(source, f"cannot be read ({exc.strerror or exc})") from exc
    except RuntimeError as exc:
        raise SkippedFile(source, f"cannot be read ({exc})") from exc
    if not stat.S_ISREG(info.st_mode):
        raise SkippedFile(source, "is not a regular file (a pipe, device, socket or folder): "
                          "skipped")
    return info.st_size


def load_file(file: Path, source: str, max_bytes: int) -> Document:
    """Read one file into a Document, or raise SkippedFile saying why not."""
    suffix = file.suffix.lower()
    if suffix not in SUPPORTED:
        raise SkippedFile(source, f"unsupported file type {suffix or '(none)'}: use .txt, .md, "
                          ".html, .pdf or .docx")
    size = regular_size(file, source)
    try:
        if size > max_bytes:
            raise SkippedFile(source, f"{size / 1e6:.1f} MB is over the {max_bytes / 1e6:.0f} MB "
                              "limit: split the file or raise RAG_MAX_FILE_MB")
        data = file.read_bytes()
    except OSError as exc:
        raise SkippedFile(source, f"cannot be read ({exc.strerror or exc})") from exc
    if not data.strip():
        raise SkippedFile(source, "is empty")
    sha = hashlib.sha256(data).hexdigest()
    if suffix in PDF_SUFFIXES:
        text, pages = _pdf_text(data, source)
        return Document(source, text, sha, "pdf", pages)
    if suffix in WORD_SUFFIXES:
        return Document(source, docx_text(data, source), sha, "docx")
    text = _decode(data, source)
    if suffix in HTML_SUFFIXES:
        text = html_to_text(text)
        kind = "html"
    else:
        kind = "md" if suffix != ".txt" else "txt"
    if not text.strip():
        raise SkippedFile(source, "has no text")
    return Document(source, text, sha, kind)


def _decode(data: bytes, source: str) -> str:
    if b"\x00" in data[:8192]:
        raise SkippedFile(source, "looks binary (holds NUL bytes), not text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SkippedFile(source, f"is not UTF-8 text (bad byte at offset {exc.start}): "
                          "save it as UTF-8") from exc
    # universal newlines, as open(path).read() does
    return text.replace("\r\n", "\n").replace("\r", "\n")


def html_to_text(markup: str) -> str:
    """Visible text of an HTML page, one block element per paragraph.

    One pass of the standard library's tokenizer (the one BeautifulSoup's ``html.parser``
    builder runs): time is linear in the markup however many or deeply nested its elements.
    """
    parser = _TextParser()
    parser.feed(markup)
    parser.close()
    raw = "".join(parser.parts)
    lines = [re.sub(r"[ \t\r\f\v\xa0]+", " ", line).strip() for line in raw.split("\n")]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


class _TextParser(HTMLParser):
    """Collects text outside hidden elements, with a paragraph break around each block."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "body":
            self._hidden.pop("head", None)  # a page that never closes its head
        if tag in _HIDDEN_TAGS:
            self._hidden[tag] = self._hidden.get(tag, 0) + 1
        elif tag in _BLOCK_SET and not self._hidden:
            self.parts.append("\n\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_SET and not self._hidden:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _HIDDEN_TAGS:
            if self._hidden.get(tag, 0) > 1:
                self._hidden[tag] -= 1
            else:
                self._hidden.pop(tag, None)
        elif tag in _BLOCK_SET and not self._hidden:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def _pdf_text(data: bytes, source: str) -> tuple[str, tuple[int, ...]]:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise SkippedFile(source, "is an encrypted PDF: save an unencrypted copy")
        page_texts = [(page.extract_text() or "") for page in reader.pages]
    except SkippedFile:
        raise
    except Exception as exc:  # pypdf raises many kinds on malformed files
        raise SkippedFile(source, f"is not a readable PDF ({type(exc).__name__}: {exc})") from exc
    parts: list[str] = []
    starts: list[int] = []
    pos = 0
    for page_text in page_texts:
        cleaned = page_text.replace("\r\n", "\n").replace("\r", "\n").strip()
        starts.append(pos)
        parts.append(cleaned)
        pos += len(cleaned) + 2
    text = "\n\n".join(parts)
    if not text.strip():
        raise SkippedFile(source, "is a PDF without a text layer (scanned?): run OCR on it first")
    return text, tuple(starts)
