"""Passages stay within their page and near their size, cut where the text breaks."""

from chat.documents.extraction import Unit
from chat.documents.passages import passages_split


def test_a_short_page_is_one_passage_that_keeps_its_page():
    passages = passages_split([Unit("page", 3, "iii", "  Short page.  ")])

    assert [(p.unit, p.unit_n, p.label, p.text) for p in passages] == [
        ("page", 3, "iii", "Short page.")
    ]


def test_a_long_page_is_cut_at_paragraphs_and_never_across_pages():
    paragraph = "word " * 60  # 300 characters
    units = [Unit("page", 1, "1", "\n\n".join([paragraph] * 10)), Unit("page", 2, "2", "end")]

    passages = passages_split(units, size=1000)

    assert all(len(p.text) <= 1000 for p in passages)
    assert [p.unit_n for p in passages] == [1, 1, 1, 1, 2]
    assert "".join(p.text for p in passages).replace(" ", "").replace("\n", "") == (
        "".join(u.text for u in units).replace(" ", "").replace("\n", "")
    )


def test_a_text_without_breaks_is_cut_at_the_size():
    passages = passages_split([Unit("document", 1, "", "x" * 2500)], size=1000)

    assert [len(p.text) for p in passages] == [1000, 1000, 500]


def test_a_page_without_text_gives_no_passage():
    assert passages_split([Unit("page", 1, "1", " \n ")]) == []
