"""Create N users with a logged-in session each; print their session keys as JSON.

Run with the site's environment: python bench/users.py N
"""

import json
import os
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "chatsite.settings")

import django

django.setup()

from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.contrib.sessions.backends.db import SessionStore  # noqa: E402

from chat.models import User  # noqa: E402


def main(count: int) -> None:
    keys = []
    run = secrets.token_hex(4)
    users = [User(username=f"bench{i}-{run}") for i in range(count)]
    for user in users:
        user.set_unusable_password()  # they log in by session only
    users = User.objects.bulk_create(users)
    for user in users:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        keys.append(session.session_key)
    print(json.dumps(keys))


if __name__ == "__main__":
    main(int(sys.argv[1]))
