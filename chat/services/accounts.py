"""Sign-up under the site's mode: open, invite-only (single-use links) or closed."""

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.forms import ModelForm
from django.utils import timezone

from chat.models import Invite, SiteSettings, User
from chat.services.usage.limits import site_settings


class SignupClosed(Exception):
    pass


class InviteInvalid(Exception):
    """No invite, or one used already or expired."""


def signup_mode() -> str:
    # An SSO-only site makes accounts from its providers' sign-ins, never from a form.
    if settings.SSO_ONLY:
        return SiteSettings.SignupMode.CLOSED
    return site_settings().signup_mode


def _invites_unused() -> QuerySet[Invite]:
    return Invite.objects.filter(used_at__isnull=True).filter(
        Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())
    )


def invite_valid(code: str) -> Invite:
    if not code:
        raise InviteInvalid
    invite = _invites_unused().filter(code=code).first()
    if invite is None:
        raise InviteInvalid
    return invite


def invite_use(*, code: str, user: User) -> None:
    """Mark the invite used by this new account, or raise InviteInvalid.

    One conditional update decides: of two sign-ups that both passed the check, only the
    first to write uses the invite. `used_at` is what marks it used, not `used_by`, which
    empties when the account is deleted: the link must not work again then.
    """
    used = _invites_unused().filter(code=code).update(used_by=user, used_at=timezone.now())
    if not used:
        raise InviteInvalid


def signup_check(invite_code: str) -> None:
    """Raises SignupClosed or InviteInvalid when this visitor may not create an account."""
    mode = signup_mode()
    if mode == SiteSettings.SignupMode.CLOSED:
        raise SignupClosed
    if mode == SiteSettings.SignupMode.INVITE:
        invite_valid(invite_code)


@transaction.atomic
def account_create(*, form: "ModelForm[User]", invite_code: str) -> User:
    """Create the account; in invite-only mode the invite is used up in the same step."""
    signup_check(invite_code)
    user: User = form.save()
    if signup_mode() == SiteSettings.SignupMode.INVITE:
        invite_use(code=invite_code, user=user)
    return user
