"""One writer per collection at a time: a file lock in ``RAG_DATA_DIR/locks``.

Indexing runs (:mod:`index.build`, ``rag index --repair``) and removals (:mod:`index.remove`)
take the same lock, so the vectors and the lexical index of a collection change in one
generation at a time.
"""

from __future__ import annotations

import fcntl
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)


@contextmanager
def collection_lock(data_dir: Path, name: str,
                    on_wait: Callable[[float, str], None] | None = None) -> Iterator[None]:
    """Hold the write lock of collection ``name``; ``on_wait`` (e.g. a run's progress callback)
    hears when another run holds it (this one then waits for it)."""
    lock_dir = data_dir / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = lock_dir / f"{name}.lock"
    with path.open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if on_wait is not None:
                on_wait(0.0, f"waiting for another indexing run of {name} to finish")
            log.warning("waiting for another indexing run of the collection %s to finish "
                        "(it holds %s) ...", name, path)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
