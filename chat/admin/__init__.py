"""The admin: every model's pages (registrations.py; single sign-on's in sso.py, API
keys' in api.py) and the usage dashboard (dashboard.py), whose figures come from the
daily totals (reports.py)."""

# Importing registers the models with the admin site.
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from chat.admin import (
    api,  # noqa: F401
    registrations,  # noqa: F401
    sso,  # noqa: F401
    tools,  # noqa: F401
)

# The site's name where Django would say "Django administration".
admin.site.site_header = _("chatsite administration")
admin.site.site_title = _("chatsite administration")
admin.site.index_title = _("Run the site")
