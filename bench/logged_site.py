"""chatsite's ASGI application with a log of every database write (bench/dbwrites.py),
written to the file CHAT_DB_WRITE_LOG names: the benchmark serves the site through this
module, so the site itself carries no benchmark code."""

import os

from bench import dbwrites
from chatsite.asgi import application

dbwrites.install(os.environ["CHAT_DB_WRITE_LOG"])

__all__ = ["application"]
