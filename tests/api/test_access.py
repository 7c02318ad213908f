"""The API can be turned off for the site, a group or a user."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.utils.translation import gettext

from chat.models import GroupLimits, SiteSettings, User, UserLimits
from chat.services.api.access import ApiAccessOff, api_access_check
from chat.services.api.keys import api_key_create

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


def test_the_api_answers_in_english_whatever_the_client_s_language(alice: User, monkeypatch):
    # Programs read the API's errors: a German Accept-Language does not change them. The
    # refusal stands in with a text Django itself translates, so a German one would show.
    def refuse(user: User) -> None:
        raise ApiAccessOff(gettext("This field is required."))

    monkeypatch.setattr("chat.api.views.api_access_check", refuse)
    secret = api_key_create(user=alice, name="k").secret
    answer = Client().get(
        "/v1/models", HTTP_AUTHORIZATION=f"Bearer {secret}", HTTP_ACCEPT_LANGUAGE="de"
    )
    assert answer.status_code == 403
    assert "This field is required." in answer.content.decode()
