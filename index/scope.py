"""Which stored documents a run over some paths covers: the folders it indexes whole, and the
documents inside them whose file is gone."""

from __future__ import annotations

from pathlib import Path

from index.docrecord import DocRecord
from index.load import SourceNames


def folder_prefixes(paths: list[Path], names: SourceNames) -> list[tuple[Path, str, bool]]:
    """Each indexed folder, the prefix of the sources inside it ("" when they are named
    relative to the folder itself), and whether they are named relative to the base."""
    out = []
    for path in paths:
        if not path.is_dir():
            continue
        resolved = path.resolve()
        inside = resolved == names.base or names.base in resolved.parents
        prefix = names(path, path)
        prefix = "" if prefix in (".", "") or not inside else prefix + "/"
        out.append((path, prefix, inside))
    return out


def run_folders(paths: list[Path], names: SourceNames) -> list[str] | None:
    """The folders (as :func:`index.records.folders_of` names them) whose documents a run
    over ``paths`` may remove; None when that is any document."""
    prefixes = [prefix for _, prefix, _ in folder_prefixes(paths, names)]
    return None if "" in prefixes else [p.rstrip("/") for p in prefixes]


def gone_sources(paths: list[Path], names: SourceNames, known: dict[str, DocRecord],
                 seen: set[str]) -> list[str]:
    """Indexed sources inside an indexed folder whose file no longer exists."""
    gone: list[str] = []
    for path, prefix, inside in folder_prefixes(paths, names):
        root = str(names.base if inside else path.resolve())
        for source, rec in known.items():
            if source in seen or not source.startswith(prefix):
                continue
            if rec.root and rec.root != root:  # named from another folder: not this one's
                continue
            file = (names.base / source) if inside else (path / source)
            if not file.exists():
                gone.append(source)
    return gone
