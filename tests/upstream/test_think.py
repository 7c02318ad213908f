import pytest

from chat.upstream.events import ContentDelta, ReasoningDelta
from chat.upstream.think import ThinkSplitter


def split(*chunks: str) -> list:
    splitter = ThinkSplitter()
    out = [event for chunk in chunks for event in splitter.feed(chunk)]
    return out + splitter.flush()


def test_text_without_tags_passes_through():
    assert split("Hello", " world") == [ContentDelta("Hello"), ContentDelta(" world")]


def test_reasoning_inside_tags_is_split_out():
    assert split("<think>hmm</think>Answer") == [ReasoningDelta("hmm"), ContentDelta("Answer")]


@pytest.mark.parametrize(
    "chunks",
    [
        ["<", "think>a", "b</", "think", ">c"],
        ["<th", "ink>ab</th", "ink>c"],
        ["<think>", "a", "b", "</think>", "c"],
    ],
)
def test_tags_cut_across_chunks_are_found(chunks):
    events = split(*chunks)
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    content = "".join(e.text for e in events if isinstance(e, ContentDelta))
    assert (reasoning, content) == ("ab", "c")


def test_a_lone_angle_bracket_is_held_then_given_back_as_text():
    assert split("a <", "b") == [ContentDelta("a "), ContentDelta("<b")]
    assert split("ends with <th") == [ContentDelta("ends with "), ContentDelta("<th")]
