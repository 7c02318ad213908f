"""Sign-up under the site's mode: open, invite-only (single-use links) or closed."""

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from chat.forms import SignupForm
from chat.models import Invite, SiteSettings, User
from chat.services.limits import site_settings


class SignupClosed(Exception):
    pass


class InviteInvalid(Exception):
    """No invite, or one used already or expired."""


def signup_mode() -> str:
    return site_settings().signup_mode


def invite_valid(code: str) -> Invite:
    if not code:
        raise InviteInvalid
    invite = (
        Invite.objects.filter(code=code, used_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .first()
    )
    if invite is None:
        raise InviteInvalid
    return invite


def signup_check(invite_code: str) -> None:
    """Raises SignupClosed or InviteInvalid when this visitor may not create an account."""
    mode = signup_mode()
    if mode == SiteSettings.SignupMode.CLOSED:
        raise SignupClosed
    if mode == SiteSettings.SignupMode.INVITE:
        invite_valid(invite_code)


@transaction.atomic
def account_create(*, form: SignupForm, invite_code: str) -> User:
    """Create the account; in invite-only mode the invite is used up in the same step."""
    signup_check(invite_code)
    user = form.save()
    if signup_mode() == SiteSettings.SignupMode.INVITE:
        used = Invite.objects.filter(pk=invite_valid(invite_code).pk, used_by__isnull=True).update(
            used_by=user
        )
        if not used:  # someone else used it a moment ago
            raise InviteInvalid
    return user
