from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from chat.models import User


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")
        help_texts = {"email": _("Optional: where a link to reset a forgotten password goes.")}
        widgets = {"email": forms.EmailInput(attrs={"autocomplete": "email"})}

    def validate_password_for_user(self, user: Any, **kwargs: Any) -> None:
        # A password the rules refuse is said under the password, where the rules are
        # (Django puts it under the confirmation).
        # django-stubs lacks SetPasswordMixin's method, which Django 5.1 added.
        super().validate_password_for_user(  # type: ignore[misc]
            user,
            password_field_name="password1",  # noqa: S106 (a field name)
        )
