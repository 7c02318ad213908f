"""Groups and staff from a provider's claims, by the admin's table (ClaimRule), at every
sign-in: the provider stays the source of truth for who is in which group."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Q

from chat.models import ClaimRule, User


def claim_values(claims: Mapping[str, Any], name: str) -> set[str]:
    """A claim's values, whether the provider sends one string or a list of them."""
    value = claims.get(name)
    if isinstance(value, str):
        return {value}
    if isinstance(value, list):
        return {item for item in value if isinstance(item, str)}
    return set()


def user_claims_apply(user: User, provider_id: str, claims: Mapping[str, Any]) -> None:
    """Put the user in exactly the groups the rules give them: groups no rule names (made
    by hand in the admin) are left alone. Where any rule makes staff, staff follows the
    claims too (given and taken away); a superuser's staff flag is never touched."""
    rules = list(ClaimRule.objects.filter(Q(provider="") | Q(provider=provider_id)))
    if not rules:
        return
    matched = [rule for rule in rules if rule.value in claim_values(claims, rule.claim)]
    managed = {rule.group_id for rule in rules if rule.group_id is not None}
    wanted = {rule.group_id for rule in matched if rule.group_id is not None}
    with transaction.atomic():
        current = set(user.groups.filter(pk__in=managed).values_list("pk", flat=True))
        if current - wanted:
            user.groups.remove(*(current - wanted))
        if wanted - current:
            user.groups.add(*(wanted - current))
        if any(rule.makes_staff for rule in rules) and not user.is_superuser:
            staff = any(rule.makes_staff for rule in matched)
            if user.is_staff != staff:
                user.is_staff = staff
                user.save(update_fields=["is_staff"])


def sign_in_claims(extra_data: Mapping[str, Any]) -> dict[str, Any]:
    """The claims of a sign-in as allauth keeps them: the ID token's, over userinfo's
    (some providers send groups in userinfo only)."""
    userinfo = extra_data.get("userinfo") or {}
    id_token = extra_data.get("id_token") or {}
    return {**userinfo, **id_token}
