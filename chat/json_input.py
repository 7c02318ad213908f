"""JSON from outside (websocket frames, POST bodies), read with its nesting bounded.

Python's parser recurses once per level: `[[[[…]]]]` deep enough raises RecursionError,
which is no ValueError and escaped every handler (a 500, or the socket closed with 1011).
Nothing chatsite accepts nests more than a few levels, so deeper input is refused outright.
"""

import json
from typing import Any

MAX_DEPTH = 32
TOO_DEEP = f"The JSON nests arrays and objects more than {MAX_DEPTH} levels deep."


class JSONInvalid(ValueError):
    """Not JSON at all."""


class JSONTooDeep(ValueError):
    """JSON nested beyond MAX_DEPTH."""


def json_read(text: str | bytes) -> Any:
    """The parsed value; raises JSONInvalid or JSONTooDeep."""
    try:
        data = json.loads(text)
    except RecursionError:
        raise JSONTooDeep(TOO_DEEP) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise JSONInvalid(str(exc)) from None
    _depth_check(data)
    return data


def _depth_check(data: Any) -> None:
    # Iterative: checking the depth must not recurse either.
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > MAX_DEPTH:
            raise JSONTooDeep(TOO_DEEP)
        stack.extend((child, depth + 1) for child in children)
