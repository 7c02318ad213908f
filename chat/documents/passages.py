"""A document's text cut into passages: each within one page, slide or sheet (so a
citation names exactly where it comes from), cut at paragraph, then line, then word
boundaries, about PASSAGE_CHARS long."""

from dataclasses import dataclass

from chat.documents.extraction import Unit

# About 400 tokens: small enough that a few of them answer a question without the rest
# of the document, large enough to hold a paragraph with its context.
PASSAGE_CHARS = 1_600


@dataclass(frozen=True)
class PassageText:
    unit: str
    unit_n: int
    label: str
    text: str


def passages_split(units: list[Unit], size: int = PASSAGE_CHARS) -> list[PassageText]:
    """The passages of a document's units, in order; units without text give none."""
    passages: list[PassageText] = []
    for unit in units:
        for text in _pieces(unit.text.strip(), size):
            passages.append(PassageText(unit.unit, unit.n, unit.label, text))
    return passages


def _pieces(text: str, size: int) -> list[str]:
    if not text:
        return []
    if len(text) <= size:
        return [text]
    for separator in ("\n\n", "\n", " "):
        parts = text.split(separator)
        if len(parts) > 1:
            return _packed(parts, separator, size)
    # One word longer than a passage (a long URL, a table row without spaces).
    return [text[start : start + size] for start in range(0, len(text), size)]


def _packed(parts: list[str], separator: str, size: int) -> list[str]:
    """Neighbouring parts joined while they fit; a part too long alone is cut finer."""
    pieces: list[str] = []
    current = ""
    for part in parts:
        joined = f"{current}{separator}{part}" if current else part
        if len(joined) <= size:
            current = joined
            continue
        if current.strip():
            pieces.append(current.strip())
        if len(part) <= size:
            current = part
        else:
            pieces += _pieces(part.strip(), size)
            current = ""
    if current.strip():
        pieces.append(current.strip())
    return pieces
