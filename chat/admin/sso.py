"""The admin's single sign-on pages: providers (their client secret write-only) and the
table that maps claims to groups and staff. A user's identities at providers show on
the user's page (registrations.py)."""

from allauth.socialaccount.models import SocialApp, SocialToken
from django import forms
from django.contrib import admin
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from chat.admin.registrations import PermissionBeforeLookup
from chat.models import ClaimRule, IdentityProvider
from chat.sso.providers import OIDC, identity_provider_secret_set

# chatsite keeps providers in IdentityProvider, with the secret encrypted: allauth's own
# provider table would show secrets in clear, and tokens are not stored.
admin.site.unregister(SocialApp)
admin.site.unregister(SocialToken)


class IdentityProviderForm(forms.ModelForm):
    issuer = forms.URLField(
        assume_scheme="https", help_text=IdentityProvider._meta.get_field("issuer").help_text
    )
    client_secret = forms.CharField(
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text=_("Stored encrypted; never shown again. Leave empty to keep the current one."),
    )

    class Meta:
        model = IdentityProvider
        fields = ["name", "slug", "issuer", "client_id", "scopes", "enabled"]

    def clean_slug(self) -> str:
        slug: str = self.cleaned_data["slug"]
        if slug == OIDC:
            text = gettext("%(slug)s is the protocol's name; choose another.")
            raise forms.ValidationError(text % {"slug": OIDC})
        return slug

    def save(self, commit: bool = True) -> IdentityProvider:
        row: IdentityProvider = super().save(commit=False)
        if self.cleaned_data.get("client_secret"):
            identity_provider_secret_set(row, self.cleaned_data["client_secret"])
        if commit:
            row.save()
        return row


@admin.register(IdentityProvider)
class IdentityProviderAdmin(PermissionBeforeLookup):
    form = IdentityProviderForm
    list_display = ("name", "slug", "issuer", "enabled", "secret")
    list_filter = ("enabled",)
    prepopulated_fields = {"slug": ("name",)}
    readonly_fields = ("secret",)
    fields = ["name", "slug", "issuer", "client_id", "client_secret", "secret", "scopes", "enabled"]

    @admin.display(description=_("client secret"))
    def secret(self, row: IdentityProvider) -> str:
        return row.client_secret_hint or gettext("none")


@admin.register(ClaimRule)
class ClaimRuleAdmin(PermissionBeforeLookup):
    list_display = ("claim", "value", "group", "makes_staff", "provider")
    list_filter = ("provider", "claim", "makes_staff")
    search_fields = ("value", "group__name")
    autocomplete_fields = ("group",)
