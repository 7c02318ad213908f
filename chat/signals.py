"""Receivers: what the per-process caches of hot-path reads forget when an admin changes
their rows (other processes see the change when their copy expires, in a few seconds),
and the groups a sign-in through a provider brings."""

from typing import Any

from allauth.account import signals as account_signals
from allauth.socialaccount.models import SocialLogin
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from chat.models import GroupLimits, ModelPrice, SiteSettings
from chat.services.usage.ledger import prices_forget
from chat.services.usage.limits import group_limits_forget, site_settings_forget
from chat.sso.claims import sign_in_claims, user_claims_apply


@receiver([post_save, post_delete], sender=ModelPrice)
def _price_changed(**_: Any) -> None:
    prices_forget()


@receiver([post_save, post_delete], sender=SiteSettings)
def _site_settings_changed(**_: Any) -> None:
    site_settings_forget()


@receiver([post_save, post_delete], sender=GroupLimits)
def _group_limits_changed(**_: Any) -> None:
    group_limits_forget()


@receiver(account_signals.user_logged_in)
def _signed_in(sociallogin: SocialLogin | None = None, **kwargs: Any) -> None:
    # Only sign-ins through a provider carry a sociallogin; password logins send Django's
    # own signal, not this one.
    if sociallogin is not None and sociallogin.user is not None:
        user_claims_apply(
            sociallogin.user,
            sociallogin.account.provider,
            sign_in_claims(sociallogin.account.extra_data),
        )
