"""Managing what a collection holds: create, remove documents, re-index one, delete.

Each change goes through the index's write lock and one commit (see :mod:`index.remove`), so a
question sees a document whole or not at all; the engine then forgets what it had loaded.
"""

from __future__ import annotations

from pathlib import Path

from index.build import IndexReport
from index.errors import DocumentNotFound, PathNotFound
from index.remove import RemoveReport, delete_collection, file_of, remove_documents
from index.store import Store, check_name
from rag.pipeline import Engine


def create(engine: Engine, collection: str) -> bool:
    """Create an empty ``collection``; False when it exists already."""
    name = check_name(collection)
    if Store(engine.client, name).exists():
        return False
    engine.index([], name)
    return True


def remove(engine: Engine, names: list[str], collection: str | None = None) -> RemoveReport:
    """Remove the documents ``names`` stand for: sources as stored, or files or folders they
    were indexed from."""
    name = check_name(collection or engine.settings.collection)
    return remove_documents(engine.settings, engine.client, name, names)


def reindex(engine: Engine, source: str, collection: str | None = None) -> IndexReport:
    """Index the file of ``source`` again (a changed file replaces its document; an unchanged
    one stays as it is)."""
    name = check_name(collection or engine.settings.collection)
    record = engine.store(name).docs().get(source)
    if record is None:
        raise DocumentNotFound(source, name)
    path = file_of(record)
    if not path.exists():
        raise PathNotFound(str(path))
    return engine.index([path], name, base=Path(record.root) if record.root else None)


def delete(engine: Engine, collection: str) -> int:
    """Delete ``collection``; returns how many documents it held."""
    name = check_name(collection)
    try:
        return delete_collection(engine.settings, engine.client, name)
    finally:
        engine.forget(name)
