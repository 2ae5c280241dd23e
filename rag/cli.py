"""The ``rag`` command: the one place that wires index, answering, UI and eval together."""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from index.errors import ConfigError, RagError
from index.offline import set_offline_environment

if TYPE_CHECKING:
    from rag.settings import Settings

_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
"""Control characters (escape sequences, bells, C1 controls) and bidirectional overrides: a
document could clear the screen, set the window title or hide text with them."""


def terminal_text(text: str) -> str:
    """``text`` safe to print on a terminal: controls and direction overrides removed (line
    breaks and tabs stay); a lone surrogate is shown as ``\\udXXX``."""
    text = _UNPRINTABLE.sub("", text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _print(text: str, file: TextIO | None = None) -> None:
    print(terminal_text(text), file=file or sys.stdout)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Cited document Q&A.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("index", help="index files and folders into a collection")
    p.add_argument("paths", nargs="*", type=Path, help="files or folders (default: seeds/)")
    p.add_argument("--collection", help="collection name (default: RAG_COLLECTION or 'seed')")
    p.add_argument("--rebuild", action="store_true", help="drop the collection first")
    p.add_argument("--repair", action="store_true",
                   help="rebuild the collection's lexical index from its vectors' records if it "
                        "is missing or older than they are (no PATH needed)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")

    p = sub.add_parser("ask", help="answer one question with citations")
    p.add_argument("question")
    p.add_argument("--collection")
    p.add_argument("--json", action="store_true", help="print the answer as JSON")

    p = sub.add_parser("chat", help="a conversation in the terminal")
    p.add_argument("--collection")
    p.add_argument("--save", type=Path, metavar="FILE",
                   help="write the conversation to FILE as Markdown (after every answer)")

    p = sub.add_parser("ui", help="serve the chat in the browser")
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--collection")
    p.add_argument("--auth", metavar="USER:PASSWORD",
                   help="ask for this login (or RAG_UI_AUTH; --users-file for several)")
    p.add_argument("--users-file", type=Path, metavar="FILE",
                   help="a file of USER:PASSWORD lines (or RAG_UI_USERS_FILE)")
    p.add_argument("--public", action="store_true",
                   help="serve on a non-loopback address without a login")
    p.add_argument("--no-uploads", action="store_true",
                   help="read-only: no uploads, no changes to collections")

    p = sub.add_parser("remove", help="remove documents from a collection")
    p.add_argument("paths", nargs="+", metavar="PATH",
                   help="documents as listed, or the files or folders they were indexed from")
    p.add_argument("--collection")

    p = sub.add_parser("eval", help="measure citation accuracy")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="options of the eval (see rag eval -h)")

    p = sub.add_parser("train", help="rebuild the reader model from the shared QA data")
    p.add_argument("rest", nargs=argparse.REMAINDER, help="options (see rag train -h)")

    p = sub.add_parser("collections", help="list the indexed collections (or delete one)")
    p.add_argument("--delete", metavar="NAME", help="delete the collection NAME")
    return parser


def main(argv: list[str] | None = None) -> int:
    set_offline_environment()
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        if argv[:1] == ["eval"]:
            # eval parses its own options (argparse's REMAINDER drops options that come first)
            return _eval(argv[1:])
        if argv[:1] == ["train"]:
            from rag.training.run import main as train_main

            return train_main(argv[1:])
        return _run(_parser().parse_args(argv))
    except RagError as exc:
        _print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def _eval(rest: list[str]) -> int:
    from eval.run import main as eval_main
    from eval.run import parser

    known, _ = parser().parse_known_args(rest)
    _check_writable(known.out, "--out")  # before the run, not after it
    return int(eval_main(rest, settings=_settings()))


def _check_writable(folder: Path, option: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise ConfigError(f"cannot write the {option} folder {folder} ({exc.strerror or exc}): "
                          f"pass a {option} folder you can write to") from exc


def _settings() -> Settings:
    """The settings from ``RAG_*`` variables; a bad value is our error, naming the variable."""
    from pydantic import ValidationError

    from rag.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(
            f"RAG_{'_'.join(str(p) for p in err['loc']).upper()}={err.get('input')!r}: "
            f"{err['msg']}" for err in exc.errors())
        raise ConfigError(f"bad setting {problems}: fix or unset the variable") from exc


def _run(args: argparse.Namespace) -> int:
    from rag.pipeline import Engine

    settings = _settings()
    engine = Engine(settings)
    if args.command == "index" and args.repair and not args.paths:
        name = args.collection or settings.collection
        done = engine.repair(name, progress=not args.quiet)
        _print(f"{name}: lexical index {'rebuilt' if done else 'already current'}")
        return 0
    if args.command == "index":
        paths = args.paths or [settings.seeds_dir]
        report = engine.index(paths, args.collection, rebuild=args.rebuild,
                              progress=not args.quiet)
        _print(report.summary())
        return 0
    if args.command == "collections":
        if args.delete:
            from rag import library

            held = library.delete(engine, args.delete)
            _print(f"deleted the collection {args.delete} ({held} documents)")
            return 0
        for name in engine.collections():
            _print(name)
        return 0
    if args.command == "remove":
        from rag import library

        removal = library.remove(engine, [str(p) for p in args.paths], args.collection)
        _print(removal.summary())
        return 0 if not removal.unmatched else 1
    if args.command == "ask":
        from rag.pipeline import ask_building_default

        answer = ask_building_default(engine, args.question, None, args.collection)
        if args.json:
            from rag.types import answer_json

            print(json.dumps(answer_json(answer), ensure_ascii=False, indent=2))
        else:
            _print(format_answer(answer))
        return 0
    if args.command == "chat":
        if args.save is not None:
            _check_writable(args.save.parent, "--save")
        return _chat(engine, args.collection, args.save)
    if args.command == "ui":
        from ui.app import launch

        launch(engine, host=args.host, port=args.port, collection=args.collection,
               auth=args.auth, users_file=args.users_file, public=args.public or None,
               uploads=False if args.no_uploads else None)
        return 0
    raise AssertionError(args.command)


def format_answer(answer: object) -> str:
    from rag.types import Answer

    assert isinstance(answer, Answer)
    lines = [answer.text]
    if answer.notice:
        lines.insert(0, f"note: {answer.notice}")
    for claim in answer.claims:
        if not claim.supported:
            lines.append(f"  unsupported: {claim.text}")
    for c in answer.citations:
        lines.append(f"  [{c.n}] {c.where} (characters {c.start}-{c.end})  {c.text}")
    return "\n".join(lines)


def _chat(engine: object, collection: str | None, save: Path | None = None) -> int:
    from rag.export import conversation_markdown
    from rag.pipeline import Engine
    from rag.types import Answer

    assert isinstance(engine, Engine)
    engine.ensure_default(collection)  # the seed collection, on a fresh machine
    engine.store(collection)  # fails early when the collection is missing
    history: list[tuple[str, str]] = []
    answers: list[Answer] = []
    print("Ask about your documents (empty line or Ctrl-D to quit).")
    while True:
        try:
            question = input("? ").strip()
        except EOFError:
            print()
            return 0
        if not question:
            return 0
        try:
            answer = engine.ask(question, history, collection)
        except RagError as exc:
            _print(f"error: {exc}")
            continue
        _print(format_answer(answer))
        history.append((question, answer.text))
        answers.append(answer)
        if save is not None:
            _save(save, conversation_markdown(answers))


def _save(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` whole (a reader never sees half of it)."""
    part = path.with_name(f".{path.name}.part")
    try:
        part.write_text(text, encoding="utf-8")
        part.replace(path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path} ({exc.strerror or exc}): pass a --save file "
                          "you can write to") from exc


if __name__ == "__main__":
    sys.exit(main())
