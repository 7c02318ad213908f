from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _

from chat.models import User


class SignupForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email")
        help_texts = {"email": _("Where a link to reset a forgotten password goes.")}
        widgets = {"email": forms.EmailInput(attrs={"autocomplete": "email"})}
