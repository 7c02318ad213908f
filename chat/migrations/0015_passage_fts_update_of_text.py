from typing import Any

from django.db import migrations

# Migration 0011's update trigger re-indexed a passage on any update: giving a document's
# 1,000 passages their vectors (0014) rebuilt its whole full-text index, 294 ms holding
# SQLite's one writer. Only a change of the text needs it.
_TRIGGER = (
    "CREATE TRIGGER chat_passage_fts_update AFTER UPDATE {of}ON chat_passage BEGIN "
    "INSERT INTO chat_passage_fts(chat_passage_fts, rowid, text) "
    "VALUES ('delete', old.id, old.text); "
    "INSERT INTO chat_passage_fts(rowid, text) VALUES (new.id, new.text); END"
)


def _trigger(of: str) -> Any:
    def run(apps: Any, schema_editor: Any) -> None:
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute("DROP TRIGGER chat_passage_fts_update")
            schema_editor.execute(_TRIGGER.format(of=of))

    return run


class Migration(migrations.Migration):
    dependencies = [("chat", "0014_embeddings")]

    operations = [migrations.RunPython(_trigger("OF text "), _trigger(""))]
