"""Reading a PDF's text back in tests: what a client would read, not only the ``%PDF`` header."""

from __future__ import annotations

import io

from pypdf import PdfReader


def pdf_text(content: bytes) -> str:
    """Every page's text in drawing order, whitespace collapsed to single spaces, so a name
    wrapped over several lines reads as the one name it is."""
    assert content.startswith(b"%PDF-"), content[:20]
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def pdf_pages(content: bytes) -> int:
    return len(PdfReader(io.BytesIO(content)).pages)


def long_name(first: str, length: int = 150) -> str:
    """A name of exactly ``length`` characters, words of ordinary length (as long names are)."""
    words = [first, "Maria", "Fernanda", "de", "los", "Angeles", "Guadalupe", "Santos"]
    words += ["Oliveira", "Castellanos", "Villanueva", "Echeverria", "Montenegro", "Bustamante"]
    text = ""
    i = 0
    while len(text) < length:
        text = f"{text} {words[i % len(words)]}".strip()
        i += 1
    text = text[:length]
    if text.endswith(" "):
        text = text[:-1] + "X"
    assert len(text) == length
    return text
