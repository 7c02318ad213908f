"""Groups and staff follow a provider's claims by the admin's table, at every sign-in;
what the table does not name is left alone."""

import pytest
from django.contrib.auth.models import Group

from chat.models import ClaimRule, User
from chat.sso.claims import claim_values, sign_in_claims, user_claims_apply

pytestmark = pytest.mark.django_db


@pytest.fixture
def research() -> Group:
    group = Group.objects.create(name="Research")
    ClaimRule.objects.create(claim="groups", value="research", group=group)
    return group


@pytest.fixture
def admins() -> Group:
    group = Group.objects.create(name="Admins")
    ClaimRule.objects.create(claim="roles", value="admin", group=group, makes_staff=True)
    return group


def names(user: User) -> list[str]:
    return sorted(user.groups.values_list("name", flat=True))


def test_a_claim_s_values_are_one_string_or_a_list_of_strings():
    assert claim_values({"groups": "a"}, "groups") == {"a"}
    assert claim_values({"groups": ["a", "b", 3, None]}, "groups") == {"a", "b"}
    assert claim_values({"groups": {"a": 1}}, "groups") == set()
    assert claim_values({}, "groups") == set()


def test_the_id_token_s_claims_win_over_userinfo_s():
    claims = sign_in_claims(
        {"userinfo": {"groups": ["u"], "roles": ["r"]}, "id_token": {"groups": ["t"]}}
    )
    assert claims == {"groups": ["t"], "roles": ["r"]}


def test_a_mapped_claim_puts_the_user_in_the_group_and_its_loss_takes_them_out(
    alice: User, research: Group
):
    user_claims_apply(alice, "corp", {"groups": ["research", "other"]})
    assert names(alice) == ["Research"]

    user_claims_apply(alice, "corp", {"groups": ["other"]})
    assert names(alice) == []


def test_a_group_no_rule_names_is_left_alone(alice: User, research: Group):
    alice.groups.add(Group.objects.create(name="Hand-made"))

    user_claims_apply(alice, "corp", {"groups": []})

    assert names(alice) == ["Hand-made"]


def test_staff_is_given_and_taken_by_the_claim(alice: User, admins: Group):
    user_claims_apply(alice, "corp", {"roles": "admin"})
    alice.refresh_from_db()
    assert alice.is_staff is True
    assert names(alice) == ["Admins"]

    user_claims_apply(alice, "corp", {"roles": "user"})
    alice.refresh_from_db()
    assert alice.is_staff is False


def test_a_superuser_s_staff_flag_is_never_touched(alice: User, admins: Group):
    alice.is_superuser = alice.is_staff = True
    alice.save()

    user_claims_apply(alice, "corp", {"roles": []})

    alice.refresh_from_db()
    assert alice.is_staff is True


def test_without_staff_rules_staff_set_by_hand_stays(alice: User, research: Group):
    alice.is_staff = True
    alice.save()

    user_claims_apply(alice, "corp", {"groups": []})

    alice.refresh_from_db()
    assert alice.is_staff is True


def test_a_rule_for_one_provider_ignores_sign_ins_through_another(alice: User):
    group = Group.objects.create(name="Partners")
    ClaimRule.objects.create(provider="partners", claim="groups", value="x", group=group)

    user_claims_apply(alice, "corp", {"groups": ["x"]})
    assert names(alice) == []

    user_claims_apply(alice, "partners", {"groups": ["x"]})
    assert names(alice) == ["Partners"]
