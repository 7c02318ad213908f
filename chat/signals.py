"""What the per-process caches of hot-path reads forget when an admin changes their rows.

Other processes see the change when their copy expires (a few seconds)."""

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from chat.models import GroupLimits, ModelPrice, SiteSettings
from chat.services.usage.ledger import prices_forget
from chat.services.usage.limits import group_limits_forget, site_settings_forget


@receiver([post_save, post_delete], sender=ModelPrice)
def _price_changed(**_: Any) -> None:
    prices_forget()


@receiver([post_save, post_delete], sender=SiteSettings)
def _site_settings_changed(**_: Any) -> None:
    site_settings_forget()


@receiver([post_save, post_delete], sender=GroupLimits)
def _group_limits_changed(**_: Any) -> None:
    group_limits_forget()
