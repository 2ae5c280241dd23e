"""Uploads: safe names (no path traversal), checks, and indexing with the real engine."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from index.embed import Embedder
from index.errors import InvalidCollectionName
from rag.pipeline import Engine
from rag.settings import Settings
from ui.errors import UploadRefused
from ui.uploads import check_upload, ingest, safe_name, save_upload, upload_dir

TRICKY = ["../../x.txt", "/etc/passwd.txt", "..\\..\\win.txt", "a\x00b.txt", "..", "...",
          "./.hidden.txt", "~/x.md", "uploads/../../../../tmp/evil.html", "\x00", "",
          "con\nnul.txt", "a/b/c/../../d.pdf", "/", "x" * 500 + ".txt", "‮txt.exe.md"]


@pytest.mark.parametrize("name", TRICKY)
def test_safe_name_is_a_plain_name(name: str) -> None:
    got = safe_name(name)
    assert got and "/" not in got and "\\" not in got and "\x00" not in got
    assert not got.startswith(".") and ".." not in got and "\n" not in got
    assert len(got) <= 120
    assert Path(got).name == got


def test_safe_name_keeps_ordinary_names() -> None:
    assert safe_name("../../x.txt") == "x.txt"
    assert safe_name("/etc/passwd.txt") == "passwd.txt"
    assert re.fullmatch(r"ab-[0-9a-f]{8}\.txt", safe_name("a\x00b.txt"))
    assert re.fullmatch(r"Report 2024 _final_-[0-9a-f]{8}\.md", safe_name("Report 2024 (final).md"))
    assert safe_name("café.txt") == "café.txt"
    assert re.fullmatch(r"upload-[0-9a-f]{8}", safe_name(".."))
    assert safe_name("x" * 500 + ".txt").endswith(".txt")


@pytest.mark.parametrize("names", [
    ("report (1).txt", "report [1].txt"), ("a<b.txt", "a>b.txt"), ("😀.txt", "😃.txt"),
    ("x" * 200 + "1.txt", "x" * 200 + "2.txt")])
def test_distinct_names_are_saved_as_distinct_files(names: tuple[str, str]) -> None:
    first, second = (safe_name(n) for n in names)
    assert first != second
    assert safe_name(names[0]) == first  # the same name always maps to the same file


@pytest.mark.parametrize("name", TRICKY)
def test_save_upload_stays_inside_the_folder(tmp_path: Path, name: str) -> None:
    src = tmp_path / "src.txt"
    src.write_text("The answer is in this sentence.")
    dest = tmp_path / "data" / "uploads" / "seed"
    suffix = Path(safe_name(name)).suffix.lower()
    if suffix not in {".txt", ".md", ".html", ".pdf"}:
        with pytest.raises(UploadRefused):
            save_upload(src, name, dest, 1.0)
        return
    if suffix == ".pdf":  # not a real PDF: refused, and nothing is left behind
        with pytest.raises(UploadRefused, match="PDF"):
            save_upload(src, name, dest, 1.0)
        assert list(dest.iterdir()) == []
        return
    target, backup = save_upload(src, name, dest, 1.0)
    assert backup is None
    assert target.resolve().parent == dest.resolve()
    assert target.read_text() == "The answer is in this sentence."
    everything = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")
                        if p.is_file())
    assert everything == sorted(["src.txt", target.relative_to(tmp_path).as_posix()])


def test_collection_name_cannot_escape(tmp_path: Path) -> None:
    for bad in ("../x", "/abs", "a/b", "..", "x\x00y"):
        with pytest.raises(InvalidCollectionName):
            upload_dir(tmp_path, bad)
    assert upload_dir(tmp_path, "my-docs") == tmp_path / "uploads" / "my-docs"


def test_checks_refuse_type_size_and_emptiness(tmp_path: Path) -> None:
    exe = tmp_path / "a.exe"
    exe.write_bytes(b"MZ")
    with pytest.raises(UploadRefused, match=r"unsupported file type \.exe"):
        check_upload(exe, "a.exe", 1.0)
    empty = tmp_path / "e.txt"
    empty.write_text("")
    with pytest.raises(UploadRefused, match="empty"):
        check_upload(empty, "e.txt", 1.0)
    big = tmp_path / "big.txt"
    big.write_text("word " * 1000)
    with pytest.raises(UploadRefused, match=r"over the 0\.001 MB upload limit"):
        check_upload(big, "big.txt", 0.001)
    check_upload(big, "big.txt", 1.0)


def test_ingest_indexes_and_refuses_without_half_indexing(tmp_path: Path,
                                                          embedder: Embedder) -> None:
    engine = Engine(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    good = tmp_path / "in" / "zorblax.txt"
    good.parent.mkdir()
    good.write_text("The Zorblax bridge was completed in 1987. It has two lanes.")
    blank = tmp_path / "in" / "blank.md"
    blank.write_text("   \n\n  ")
    binary = tmp_path / "in" / "bin.txt"
    binary.write_bytes(b"\x00\x01\x02 binary")
    seen: list[str] = []
    lines = ingest(engine, [(good, "../../zorblax.txt"), (blank, "blank.md"),
                            (binary, "bin.txt")], "uploads-test",
                   lambda i, name: seen.append(name))
    assert seen == ["../../zorblax.txt", "blank.md", "bin.txt"]
    assert [kind for kind, _ in lines] == ["ok", "error", "error"], lines
    assert "binary" in lines[2][1]
    folder = tmp_path / "data" / "uploads" / "uploads-test"
    assert sorted(p.name for p in folder.iterdir()) == ["zorblax.txt"]
    assert [d["source"] for d in engine.documents("uploads-test")] == ["zorblax.txt"]
    answer = engine.ask("When was the Zorblax bridge completed?", None, "uploads-test")
    assert "1987" in answer.text and answer.citations[0].source == "zorblax.txt"
    # replacing it with a file that cannot be indexed keeps the old file and its index
    bad = tmp_path / "in" / "bad.txt"
    bad.write_bytes(b"\xff\xfe not utf-8")
    (kind, message), = ingest(engine, [(bad, "zorblax.txt")], "uploads-test")
    assert kind == "error" and "UTF-8" in message
    assert (folder / "zorblax.txt").read_text().startswith("The Zorblax bridge")
    assert sorted(p.name for p in folder.iterdir()) == ["zorblax.txt"]
    # the same file again is unchanged
    (kind, message), = ingest(engine, [(good, "zorblax.txt")], "uploads-test")
    assert kind == "ok" and "unchanged" in message
    with pytest.raises(InvalidCollectionName):
        ingest(engine, [(good, "x.txt")], "../evil")
    assert not (tmp_path / "data" / "evil").exists()


MALFORMED_PDF = (  # pypdf raises NotImplementedError: an encryption handler it does not know
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages "
    b"/Kids [] /Count 0 >>\nendobj\nxref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n"
    b"0000000058 00000 n \ntrailer\n<< /Root 1 0 R /Size 3 /Encrypt << /Filter /Unknown /V 1 >> "
    b"/ID [<01> <01>] >>\nstartxref\n110\n%%EOF\n")


def test_a_malformed_pdf_does_not_lose_the_rest_of_the_batch(tmp_path: Path,
                                                             embedder: Embedder) -> None:
    engine = Engine(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(MALFORMED_PDF)
    good = tmp_path / "good.txt"
    good.write_text("The Zorblax bridge was completed in 1987.")
    lines = ingest(engine, [(broken, "broken.pdf"), (good, "good.txt")], "uploads-test")
    assert [kind for kind, _ in lines] == ["error", "ok"], lines
    assert "not a readable PDF" in lines[0][1]
    folder = tmp_path / "data" / "uploads" / "uploads-test"
    assert sorted(p.name for p in folder.iterdir()) == ["good.txt"]  # nothing hidden left


def test_two_uploads_whose_names_differ_are_both_kept(tmp_path: Path, embedder: Embedder) -> None:
    engine = Engine(Settings(data_dir=tmp_path / "data"), embedder=embedder)
    one, two = tmp_path / "one.txt", tmp_path / "two.txt"
    one.write_text("The first report says the bridge opened in 1987.")
    two.write_text("The second report says the tunnel opened in 2001.")
    lines = ingest(engine, [(one, "report (1).txt"), (two, "report [1].txt")], "uploads-test")
    assert [kind for kind, _ in lines] == ["ok", "ok"], lines
    saved = [safe_name("report (1).txt"), safe_name("report [1].txt")]
    assert all(f"as {name}" in line for name, (_, line) in zip(saved, lines, strict=True))
    assert sorted(d["source"] for d in engine.documents("uploads-test")) == sorted(saved)
