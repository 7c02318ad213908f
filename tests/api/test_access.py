"""The API can be turned off for the site, a group or a user."""

import pytest
from django.contrib.auth.models import Group

from chat.models import GroupLimits, SiteSettings, User, UserLimits
from chat.services.api.access import ApiAccessOff, api_access_check

pytestmark = pytest.mark.django_db


def test_the_api_is_on_by_default(alice: User):
    api_access_check(alice)


def test_the_site_can_turn_it_off(alice: User):
    SiteSettings(api_enabled=False).save()
    with pytest.raises(ApiAccessOff, match="site"):
        api_access_check(alice)


def test_a_group_can_turn_it_off_for_its_members(alice: User, bob: User):
    group = Group.objects.create(name="Interns")
    group.user_set.add(alice)
    GroupLimits.objects.create(group=group, api_enabled=False)

    with pytest.raises(ApiAccessOff, match="Interns"):
        api_access_check(alice)
    api_access_check(bob)


def test_a_user_s_own_setting_can_turn_it_off(alice: User):
    UserLimits.objects.create(user=alice, api_enabled=False)
    with pytest.raises(ApiAccessOff, match="your account"):
        api_access_check(alice)
