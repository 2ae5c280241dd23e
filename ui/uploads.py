"""Uploaded files: checked (type, size, emptiness, readable text), saved under
``data_dir/uploads/<collection>/`` with a safe name, then indexed, or refused with a reason.

A file is never half-indexed: it is loaded and checked before it replaces anything, and the
indexer writes a document's records before the record that marks it complete.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Callable
from pathlib import Path

from index.build import Progress
from index.errors import IndexingCancelled, RagError, SkippedFile
from index.load import SUPPORTED, load_file
from index.store import check_name
from rag.pipeline import Engine
from ui.errors import UploadRefused

MAX_NAME_CHARS = 120
SHOWN_TYPES = ".txt, .md, .html, .pdf or .docx"


def safe_name(name: str) -> str:
    """A plain file name from an untrusted one: no folders, no NUL or control characters,
    no leading dot, only letters, digits, ``.``, ``-``, ``_`` and spaces.

    Distinct names stay distinct: when characters had to be replaced or dropped (or the name
    shortened), a short hash of the original name goes before the suffix, so "report (1).txt"
    and "report [1].txt" are saved as two files; the same name always maps to the same file."""
    original = re.split(r"[\\/]", unicodedata.normalize("NFC", str(name)))[-1]
    name = original.replace("\x00", "")
    name = re.sub(r"[^\w.\- ]", "_", name)
    name = re.sub(r"\.{2,}", ".", re.sub(r"\s+", " ", name)).strip(" .") or "upload"
    if name == original and len(name) <= MAX_NAME_CHARS:
        return name
    tag = hashlib.sha256(original.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    stem, dot, suffix = name.rpartition(".")
    suffix = suffix[:10] if dot else ""
    stem = (stem if dot else name)[: MAX_NAME_CHARS - len(suffix) - len(tag) - 2].rstrip(" .")
    stem = f"{stem}-{tag}" if stem else tag
    return f"{stem}.{suffix}" if suffix else stem


def upload_dir(data_dir: Path, collection: str) -> Path:
    """The folder of ``collection``'s uploads (the name is checked: no path tricks)."""
    return Path(data_dir) / "uploads" / check_name(collection)


def check_upload(path: Path, name: str, max_mb: float) -> None:
    """Refuse a file of the wrong type, over ``max_mb`` megabytes, or empty."""
    suffix = Path(safe_name(name)).suffix.lower()
    if suffix not in SUPPORTED:
        raise UploadRefused(f"{name}: unsupported file type {suffix or '(none)'}; "
                            f"upload {SHOWN_TYPES} files")
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise UploadRefused(f"{name}: the upload cannot be read ({exc.strerror or exc}); "
                            "upload it again") from exc
    if size > max_mb * 1e6:
        raise UploadRefused(f"{name}: {size / 1e6:.1f} MB is over the {max_mb:g} MB upload "
                            "limit; split the file or raise RAG_MAX_UPLOAD_MB")
    if size == 0:
        raise UploadRefused(f"{name}: the file is empty; upload a file with text in it")


def target_path(dest_dir: Path, name: str) -> Path:
    """Where ``name`` is saved: always directly inside ``dest_dir``."""
    target = dest_dir / safe_name(name)
    if target.resolve().parent != dest_dir.resolve():  # belt and braces
        raise UploadRefused(f"{name}: not a usable file name; rename the file")
    return target


def save_upload(src: Path, name: str, dest_dir: Path, max_mb: float) -> tuple[Path, Path | None]:
    """Check ``src`` and move it to ``dest_dir`` under a safe name.

    Returns the saved path and the backup of the file it replaced (or None); the caller
    removes the backup once the new file is indexed, or restores it with :func:`restore`.
    """
    check_upload(src, name, max_mb)
    dest_dir.mkdir(parents=True, exist_ok=True)
    target = target_path(dest_dir, name)
    staging = dest_dir / f".upload-{uuid.uuid4().hex}{target.suffix.lower()}"
    try:
        staging.write_bytes(src.read_bytes())
        load_file(staging, target.name, int(max_mb * 1e6))  # readable text, or SkippedFile
    except SkippedFile as exc:
        staging.unlink(missing_ok=True)
        raise UploadRefused(f"{name}: {exc.reason}") from exc
    except OSError as exc:
        staging.unlink(missing_ok=True)
        raise UploadRefused(f"{name}: cannot be saved ({exc.strerror or exc})") from exc
    except BaseException:
        staging.unlink(missing_ok=True)
        raise
    backup = None
    if target.exists():
        backup = dest_dir / f".backup-{uuid.uuid4().hex}{target.suffix.lower()}"
        target.replace(backup)
    staging.replace(target)
    return target, backup


def restore(target: Path, backup: Path | None) -> None:
    if backup is None:
        target.unlink(missing_ok=True)
    else:
        backup.replace(target)


def ingest(engine: Engine, files: list[tuple[Path, str]], collection: str,
           step: Callable[[int, str], None] | None = None,
           progress: Progress | None = None) -> list[tuple[str, str]]:
    """Save and index uploaded ``(path, original name)`` files into ``collection``.

    Returns ``(kind, message)`` lines, kind ``ok`` or ``error``; one refused file does not
    stop the others. ``progress`` hears the share of the whole upload done, as the files'
    sentences are encoded; when it raises :class:`IndexingCancelled`, the file being indexed
    is left as it was and the rest are not indexed.
    """
    dest = upload_dir(engine.settings.data_dir, collection)
    lines: list[tuple[str, str]] = []
    for i, (path, name) in enumerate(files):
        if step is not None:
            step(i, name)

        def moved(done: float, what: str, i: int = i, name: str = name) -> None:
            if progress is not None:
                progress((i + done) / len(files), f"{name} ({i + 1}/{len(files)}): {what}")

        try:
            moved(0.0, "checking")
            target, backup = save_upload(path, name, dest, engine.settings.max_upload_mb)
            try:
                report = engine.index([target], collection, on_progress=moved)
            except BaseException:
                restore(target, backup)
                raise
            if report.skipped:
                restore(target, backup)
                raise UploadRefused(f"{name}: {report.skipped[0][1]}")
            if backup is not None:
                backup.unlink(missing_ok=True)
            if report.indexed:
                done = f"{report.sentences} sentences in {report.seconds:.1f} s"
            else:
                done = "unchanged, already indexed"
            if backup is not None and report.indexed:
                done += f"; it replaces the earlier upload named {target.name}"
            lines.append(("ok", f"{name}: indexed into “{collection}” as {target.name} ({done})"))
        except IndexingCancelled:
            lines += [("error", f"{other}: cancelled, not indexed") for _, other in files[i:]]
            break
        except RagError as exc:
            lines.append(("error", str(exc)))
        except Exception as exc:  # one odd file never loses the rest of the batch
            lines.append(("error", f"{name}: could not be indexed ({type(exc).__name__}: "
                                   f"{exc}); the other files go on"))
    return lines
