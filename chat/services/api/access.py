"""Who may use the API: on for the site, for the user and for every group of theirs
unless an admin turned it off for one of them."""

from django.utils.translation import gettext

from chat.models import User, UserLimits
from chat.services.usage.limits import group_limits_of, site_settings


class ApiAccessOff(Exception):
    """The API is off for this user (the site's, a group's or their own setting)."""


def api_access_check(user: User) -> None:
    if not site_settings().api_enabled:
        raise ApiAccessOff(gettext("The API is turned off on this site."))
    own = UserLimits.objects.filter(user=user).values_list("api_enabled", flat=True).first()
    if own is False:
        raise ApiAccessOff(gettext("The API is turned off for your account."))
    for group in group_limits_of(user.pk):
        if not group.api_enabled:
            raise ApiAccessOff(
                gettext("The API is turned off for your group %(group)s.")
                % {"group": group.group.name}
            )
