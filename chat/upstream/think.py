"""Some models write their reasoning inline, as <think>…</think> in the content. This
splits it out, even when a tag is cut across chunks."""

from chat.upstream.events import ContentDelta, ReasoningDelta

OPEN, CLOSE = "<think>", "</think>"


class ThinkSplitter:
    def __init__(self) -> None:
        self.thinking = False
        self._held = ""  # a tail that may be the start of a tag

    def feed(self, text: str) -> list[ContentDelta | ReasoningDelta]:
        if not self.thinking and not self._held and "<" not in text:
            return [ContentDelta(text)]  # nearly every chunk: no tag can start here
        out: list[ContentDelta | ReasoningDelta] = []
        text = self._held + text
        self._held = ""
        while text:
            tag = CLOSE if self.thinking else OPEN
            index = text.find(tag)
            if index >= 0:
                self._emit(out, text[:index])
                text = text[index + len(tag) :]
                self.thinking = not self.thinking
                continue
            keep = _partial_tag_length(text, tag)
            self._emit(out, text[: len(text) - keep])
            self._held = text[len(text) - keep :]
            break
        return out

    def flush(self) -> list[ContentDelta | ReasoningDelta]:
        """At the end of the stream a held tail was text after all."""
        out: list[ContentDelta | ReasoningDelta] = []
        self._emit(out, self._held)
        self._held = ""
        return out

    def _emit(self, out: list[ContentDelta | ReasoningDelta], text: str) -> None:
        if text:
            out.append(ReasoningDelta(text) if self.thinking else ContentDelta(text))


def _partial_tag_length(text: str, tag: str) -> int:
    """How many trailing characters of text are the beginning of tag."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:size]):
            return size
    return 0
