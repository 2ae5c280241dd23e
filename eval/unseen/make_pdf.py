"""Write eval/unseen/docs/lindqvist-history.pdf from the text below.

Deterministic: reportlab's invariant mode fixes the creation date and document id, so running
this script again produces the same bytes. Run from anywhere:
    .venv/bin/python eval/unseen/make_pdf.py
"""

from __future__ import annotations

from pathlib import Path

from reportlab import rl_config

rl_config.invariant = 1

from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.lib.styles import getSampleStyleSheet  # noqa: E402
from reportlab.lib.units import cm  # noqa: E402
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer  # noqa: E402

OUT = Path(__file__).resolve().parent / "docs" / "lindqvist-history.pdf"

TITLE = "Lindqvist Optics: A Company History, 1908 to 2023"

SECTIONS: list[tuple[str, list[str]]] = [
    ("", [
        "This short history was prepared by the corporate communications office of Lindqvist "
        "Optics for the company's 115th anniversary in 2023. It draws on the family archive, "
        "on board minutes and on interviews with former employees.",
    ]),
    ("A workshop on Hamngatan", [
        "Lindqvist Optics was founded in 1908 by Edvard Lindqvist, a former ship's instrument "
        "maker, in a rented workshop on Hamngatan in Gothenburg. His first products were brass "
        "telescopes and compasses for fishing boats. By 1914 the workshop employed nine people.",
        "In 1923 the company moved to a larger factory in Uppsala, attracted by the university's "
        "physics department and by cheaper land. During the 1920s it began grinding lenses for "
        "microscopes, which soon became its main business.",
    ]),
    ("Karin Lindqvist and the Nordlys years", [
        "Edvard's daughter, Karin Lindqvist, joined the firm in 1931 as a lens designer after "
        "studying physics at Uppsala University. She became managing director in 1946, when her "
        "father retired at the age of 71.",
        "Under her leadership the company developed the Nordlys binocular, launched in 1952, "
        "which sold more than 200,000 units over the next two decades. Karin Lindqvist ran the "
        "company for 28 years, until 1974. She remained on the board until her death in 1991.",
        "The first export order, for 400 microscopes, came from a hospital supplier in Oslo in "
        "1957. By 1970, exports made up 45 percent of sales.",
    ]),
    ("The fire of 1978", [
        "On the night of 14 February 1978, a fire destroyed the main production hall in Uppsala. "
        "No one was injured, but most of the machinery was lost. Production was moved "
        "temporarily to a rented aircraft hangar in Vasteras, and the rebuilt factory opened "
        "eleven months later, in January 1979.",
        "The company kept all of its 212 employees on full pay during the rebuilding, a decision "
        "that former workers still mention with pride.",
    ]),
    ("New owners and a new direction", [
        "In 1989 the family appointed Per Almgren as the first managing director from outside the "
        "Lindqvist family. Almgren had previously run the optical division of a Danish "
        "hearing-aid maker. He moved the company toward industrial and medical optics and closed "
        "the consumer binocular line in 1996, citing competition from low-cost manufacturers.",
        "In 2004 the investment firm Vester Holding bought 60 percent of the shares, and the "
        "Lindqvist family kept the remaining 40 percent. The deal valued the whole company at "
        "410 million kronor.",
    ]),
    ("Lindqvist Optics today", [
        "Sofia Lindqvist-Berg, Karin's granddaughter, became chair of the board in 2015. Under "
        "chief executive Anders Mohlin, appointed in 2017, the company opened a laser optics "
        "plant in Tallinn, Estonia, in 2020.",
        "In 2023 Lindqvist Optics employed 640 people and reported revenue of 1.2 billion kronor. "
        "About 70 percent of revenue now comes from medical imaging and laboratory customers.",
        "The original Hamngatan workshop has been restored as a small museum with Edvard's "
        "workbench and the first telescopes. It is open to visitors on Saturdays, and entry is "
        "free.",
    ]),
]


def build(path: Path = OUT) -> Path:
    styles = getSampleStyleSheet()
    doc = SimpleDocTemplate(str(path), pagesize=A4, leftMargin=2.5 * cm, rightMargin=2.5 * cm,
                            topMargin=2.5 * cm, bottomMargin=2.5 * cm, title=TITLE,
                            author="Lindqvist Optics", invariant=1)
    story = [Paragraph(TITLE, styles["Title"]), Spacer(1, 12)]
    for heading, paragraphs in SECTIONS:
        if heading:
            story.append(Paragraph(heading, styles["Heading2"]))
        for text in paragraphs:
            story.append(Paragraph(text, styles["BodyText"]))
            story.append(Spacer(1, 6))
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.build(story)
    return path


if __name__ == "__main__":
    print(build())
