"""For the benchmark: log every statement that writes to the database, one line each.

Installed by bench/logged_site.py, the benchmark's entry point into the site; `bench/`
counts the lines to report database writes per generation, as the real server makes them.
"""

from collections.abc import Callable
from typing import Any

from django.db.backends.signals import connection_created

_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def install(path: str) -> None:
    log = open(path, "a", buffering=1)  # noqa: SIM115 - open for the life of the process

    # The statements' texts repeat (their values are parameters): each is read once, so
    # the count costs the server it measures next to nothing.
    lines: dict[str, str] = {}

    def wrapper(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        line = lines.get(sql)
        if line is None:
            line = lines[sql] = _line(sql)
        if line:
            log.write(line)
        return execute(sql, params, many, context)

    def on_connect(sender: Any, connection: Any, **kwargs: Any) -> None:
        # The signal fires on every reconnect of the same connection object.
        if wrapper not in connection.execute_wrappers:
            connection.execute_wrappers.append(wrapper)

    connection_created.connect(on_connect, weak=False)


def _line(sql: str) -> str:
    """The log line of a statement that writes ("INSERT chat_message"), else ""."""
    verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    return f"{verb} {_table(sql)}\n" if verb in _WRITES else ""


def _table(sql: str) -> str:
    words = sql.replace('"', " ").split()
    for keyword in ("INTO", "UPDATE", "FROM"):
        if keyword in words:
            index = words.index(keyword) + 1
            return words[index] if index < len(words) else "?"
    return "?"
