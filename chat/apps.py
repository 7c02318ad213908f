from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Chat"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings

        from chat import signals  # noqa: F401 - connects the receivers

        if settings.CHAT_DB_WRITE_LOG:
            from chat import dbwrites

            dbwrites.install(settings.CHAT_DB_WRITE_LOG)
