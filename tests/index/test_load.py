import time
from pathlib import Path

import pytest

from index.errors import PathNotFound, SkippedFile
from index.load import discover, html_to_text, load_file
from index.types import Document

MB = 1_000_000


def make_pdf(path: Path, pages: list[str]) -> Path:
    from reportlab.pdfgen import canvas

    c = canvas.Canvas(str(path))
    for text in pages:
        if text:
            c.drawString(72, 720, text)
        else:
            c.rect(72, 600, 100, 100, fill=1)  # a page with a drawing and no text
        c.showPage()
    c.save()
    return path


def test_text_keeps_the_file_text_exactly(tmp_path: Path) -> None:
    f = tmp_path / "a.txt"
    f.write_bytes("Caf\u00e9 r\u00e9sum\u00e9.\r\nSecond line.\n".encode())
    doc = load_file(f, "a.txt", MB)
    assert doc.text == f.read_text(encoding="utf-8")  # universal newlines, like open().read()
    assert doc.kind == "txt" and len(doc.sha256) == 64


def test_html_keeps_visible_text_only(tmp_path: Path) -> None:
    f = tmp_path / "p.html"
    f.write_text("<html><head><title>T</title><script>evil()</script></head><body>"
                 "<h1>Title</h1><p>First <b>bold</b> para.</p><ul><li>One</li></ul></body></html>")
    doc = load_file(f, "p.html", MB)
    assert doc.text == "Title\n\nFirst bold para.\n\nOne"
    assert "evil" not in html_to_text("<script>evil()</script><p>x</p>")


def test_pdf_keeps_page_numbers(tmp_path: Path) -> None:
    f = make_pdf(tmp_path / "d.pdf", ["Page one says hello.", "Page two says goodbye."])
    doc = load_file(f, "d.pdf", MB)
    assert "hello" in doc.text and "goodbye" in doc.text
    assert doc.page_of(doc.text.index("goodbye")) == 2
    assert doc.page_of(doc.text.index("hello")) == 1


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.txt", b"", "is empty"),
        ("blank.md", b"  \n\n \t", "is empty"),
        ("binary.txt", b"\x00\x01\x02binary\x00data" * 10, "looks binary"),
        ("latin1.txt", "caf\u00e9 cr\u00e8me".encode("latin-1"), "is not UTF-8"),
        ("corrupt.pdf", b"%PDF-1.4\n this is not really a pdf \n%%EOF", "not a readable PDF"),
        ("image.png", b"\x89PNG\r\n\x1a\n", "unsupported file type"),
    ],
)
def test_bad_files_are_refused_with_a_reason(tmp_path: Path, name: str, content: bytes,
                                             reason: str) -> None:
    f = tmp_path / name
    f.write_bytes(content)
    with pytest.raises(SkippedFile) as err:
        load_file(f, name, MB)
    assert reason in str(err.value) and name in str(err.value)


def test_pdf_without_text_layer_is_refused(tmp_path: Path) -> None:
    f = make_pdf(tmp_path / "scan.pdf", [""])
    with pytest.raises(SkippedFile, match="without a text layer"):
        load_file(f, "scan.pdf", MB)


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    f = tmp_path / "big.txt"
    with f.open("w") as handle:
        line = "A sentence that repeats to make a large file.\n"
        for _ in range(50 * MB // len(line) + 1):
            handle.write(line)
    with pytest.raises(SkippedFile, match=r"50\.0 MB is over the 20 MB limit"):
        load_file(f, "big.txt", 20 * MB)


def test_missing_path_is_an_error_that_names_it(tmp_path: Path) -> None:
    with pytest.raises(PathNotFound, match="nope"):
        list(discover([tmp_path / "nope"]))


def test_discover_skips_hidden_files(tmp_path: Path) -> None:
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "x.txt").write_text("x")
    (tmp_path / ".y.txt").write_text("y")
    (tmp_path / "a.txt").write_text("a")
    assert [f.name for f, _ in discover([tmp_path])] == ["a.txt"]


def test_page_of_counts_page_starts_up_to_the_offset() -> None:
    doc = Document("x.pdf", "a" * 30, "0" * 64, "pdf", (0, 10, 20))
    assert [doc.page_of(i) for i in (0, 9, 10, 19, 20, 29)] == [1, 1, 2, 2, 3, 3]
    assert Document("x.pdf", "a" * 30, "0" * 64, "pdf", (5, 10)).page_of(2) == 1
    assert Document("x.txt", "a", "0" * 64, "txt").page_of(0) is None


@pytest.mark.parametrize("markup", [
    "<html><body>" + "".join(f"<p>Paragraph {i}.</p>" for i in range(20_000)) + "</body></html>",
    "<div>" * 20_000 + "deep" + "</div>" * 20_000,
])
def test_html_extraction_is_linear_in_the_markup(markup: str) -> None:
    started = time.perf_counter()
    text = html_to_text(markup)
    assert "Paragraph 19999." in text or text == "deep"
    assert time.perf_counter() - started < 5.0  # quadratic: minutes


def test_an_unclosed_head_hides_only_the_head() -> None:
    assert html_to_text("<html><head><title>T</title><body><p>Body text.</p>") == "Body text."
