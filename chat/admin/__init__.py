"""The admin: every model's pages (registrations.py) and the usage dashboard
(dashboard.py), whose figures come from the daily totals (reports.py)."""

from chat.admin import registrations  # noqa: F401 - registers the models with the admin site
