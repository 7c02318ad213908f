"""The admin on a big ledger: seed 1,000,000 usage rows, then time the dashboard and the
changelists an admin uses, as a signed-in superuser through Django's test client.

    .venv/bin/python -m bench.admin_scale                 # SQLite, in a temporary file
    DATABASE_URL=postgres://… .venv/bin/python -m bench.admin_scale   # a new PostgreSQL DB

Writes a table into docs/benchmarks.md (between the admin-results markers).
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- admin-results:start -->", "<!-- admin-results:end -->"


def configure(database: str) -> str:
    os.environ.update(
        DEBUG="0",
        SECRET_KEY="bench-only-not-a-secret",
        ALLOWED_HOSTS="testserver",
        SECURE_SSL_REDIRECT="0",
        SECURE_COOKIES="0",
        LOG_LEVEL="WARNING",
    )
    if database.startswith("postgres"):
        import psycopg

        name = f"chatsite_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(database, autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = database.rsplit("/", 1)[0] + "/" + name
        return f"PostgreSQL ({name})"
    os.environ.pop("DATABASE_URL", None)
    os.environ["SQLITE_PATH"] = database
    return "SQLite"


def seed(rows: int, users: int, days: int) -> float:
    """Users, then the ledger generated inside the database (seconds, not minutes), then
    the daily totals rebuilt from it."""
    from django.db import connection

    from chat.models import User
    from chat.services.usage.ledger import usage_daily_rebuild

    began = time.monotonic()
    User.objects.bulk_create(
        [User(username=f"user{n:05d}", password="!") for n in range(users)], batch_size=1000
    )
    first = User.objects.order_by("pk").values_list("pk", flat=True).first()
    seconds = days * 86400
    if connection.vendor == "postgresql":
        number = "(random() * 2147483647)::bigint"
        request_id, generator = "gen_random_uuid()", f"generate_series(1, {rows})"
        created = f"now() - ({number} % {seconds}) * interval '1 second'"
        estimated = f"({number} % 50 = 0)"
    else:
        number = "abs(random())"
        request_id = "lower(hex(randomblob(16)))"  # how Django stores a UUIDField here
        generator = f"(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {rows}) SELECT i FROM n)"  # noqa: E501
        created = (
            f"strftime('%Y-%m-%d %H:%M:%f', 'now', '-' || ({number} % {seconds}) || ' seconds')"
        )
        estimated = f"({number} % 50 = 0)"
    model = f"{number} % 4"
    sql = f"""
        INSERT INTO chat_usage (request_id, user_id, purpose, provider, model, status,
            prompt_tokens, completion_tokens, cached_tokens, reasoning_tokens, estimated,
            cost, latency_ms, time_to_first_token_ms, created_at)
        SELECT {request_id}, {first} + {number} % {users},
            CASE WHEN {number} % 20 = 0 THEN 'title' ELSE 'answer' END,
            CASE m WHEN 2 THEN 'acme' WHEN 3 THEN '' ELSE 'openai' END,
            CASE m WHEN 0 THEN 'gpt-4o' WHEN 1 THEN 'gpt-4o-mini' WHEN 2 THEN 'acme-large'
                ELSE 'local' END,
            CASE {number} % 20 WHEN 0 THEN 'stopped' WHEN 1 THEN 'error'
                WHEN 2 THEN 'incomplete' WHEN 3 THEN 'interrupted' ELSE 'complete' END,
            p, c, p / 3, 0, {estimated}, (p * 2.5 + c * 10) / 1000000.0,
            200 + {number} % 30000, 100 + {number} % 2000, {created}
        FROM r
    """
    # Materialised: a flattened subquery would draw a new random() at each use of m.
    draws = f"SELECT {model} AS m, 20 + {number} % 4000 AS p, 1 + {number} % 1500 AS c"
    sql = f"WITH r AS MATERIALIZED ({draws} FROM {generator} AS g) {sql}"
    with connection.cursor() as cursor:
        cursor.execute(sql)
    print(f"inserted {rows:,} rows in {time.monotonic() - began:.0f} s", flush=True)
    usage_daily_rebuild()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    print(f"daily totals and ANALYZE: {time.monotonic() - began:.0f} s", flush=True)
    return time.monotonic() - began


def timed(client, url: str, repeat: int) -> tuple[float, float, int]:
    times = []
    status = 0
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(url)
        if getattr(response, "streaming", False):
            b"".join(response.streaming_content)
        status = response.status_code
        times.append((time.perf_counter() - began) * 1000)
    return statistics.median(times), max(times), status


def pages() -> list[tuple[str, str]]:
    from django.urls import reverse
    from django.utils import timezone

    from chat.models import User

    someone = User.objects.get(username="user00042")
    today = timezone.localdate()
    start = today - timedelta(days=59)
    dashboard = reverse("admin:chat_usage_dashboard")
    usage = reverse("admin:chat_usage_changelist")
    return [
        ("dashboard, today", f"{dashboard}?period=today"),
        ("dashboard, 7 days", f"{dashboard}?period=7d"),
        ("dashboard, 30 days", f"{dashboard}?period=30d"),
        ("dashboard, 60-day range", f"{dashboard}?period=range&start={start:%Y-%m-%d}"
         f"&end={today:%Y-%m-%d}"),
        ("dashboard, one user, 30 days", f"{dashboard}?period=30d&user=user00042"),
        ("dashboard, one model, 30 days", f"{dashboard}?period=30d&model=gpt-4o"),
        ("dashboard CSV, 30 days", f"{dashboard}?period=30d&format=csv"),
        ("usage list", usage),
        ("usage list, page 50", f"{usage}?p=50"),
        ("usage list, last 7 days", f"{usage}?period=7d"),
        ("usage list, one user (drill-down)", f"{usage}?user__id__exact={someone.pk}"),
        ("usage list, one model", f"{usage}?model=acme-large"),
        ("usage list, status stopped", f"{usage}?status__exact=stopped"),
        ("usage list, search a user name", f"{usage}?q=user00042"),
        ("user list (usage this month)", reverse("admin:chat_user_changelist")),
        ("one user's page", reverse("admin:chat_user_change", args=[someone.pk])),
    ]  # fmt: skip


def report(engine: str, rows: int, seconds: float, results: list[tuple]) -> str:
    lines = [
        f"**{engine}**, {rows:,} usage rows, seeded in {seconds:.0f} s. Milliseconds per page "
        "(median and slowest of the repeats), as a signed-in superuser:",
        "",
        "| page | median ms | max ms |",
        "| --- | ---: | ---: |",
    ]
    lines += [f"| {name} | {median:.0f} | {worst:.0f} |" for name, median, worst, _ in results]
    return "\n".join(lines) + "\n"


def write(section: str, engine: str) -> None:
    path = ROOT / "docs" / "benchmarks.md"
    text = path.read_text()
    start, end = text.index(START), text.index(END)
    body = text[start + len(START) : end]
    key = f"<!-- {engine.split(' ')[0]} -->"
    parts = body.split("<!-- ")
    kept = [p for p in parts if p.strip() and not ("<!-- " + p).startswith(key)]
    new = "\n" + "".join("<!-- " + p for p in kept) + f"{key}\n{section}\n"
    path.write_text(text[: start + len(START)] + new + text[end:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    workdir = tempfile.mkdtemp(prefix="chatsite-admin-bench-")
    database = os.environ.get("DATABASE_URL") or str(Path(workdir) / "db.sqlite3")
    engine = configure(database)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from chat.models import User

    call_command("migrate", verbosity=0)
    seconds = seed(args.rows, args.users, args.days)
    admin = User.objects.create_superuser("bench-admin", password="bench-admin-password-1")
    client = Client()
    client.force_login(admin)
    results = []
    for name, url in pages():
        median, worst, status = timed(client, url, args.repeat)
        assert status == 200, f"{name}: HTTP {status}"
        results.append((name, median, worst, status))
        print(f"{name:40} {median:8.0f} ms  (max {worst:.0f})", flush=True)
    section = report(engine, args.rows, seconds, results)
    print(section)
    if not args.no_write:
        write(section, engine)
    drop(database)


def drop(database: str) -> None:
    """The throwaway PostgreSQL database goes (the SQLite file is in a temporary folder)."""
    if not database.startswith("postgres"):
        return
    import psycopg
    from django.db import connections

    connections.close_all()
    name = os.environ["DATABASE_URL"].rsplit("/", 1)[1]
    with psycopg.connect(database, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')


if __name__ == "__main__":
    main()
