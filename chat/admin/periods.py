"""The periods the admin's usage pages offer, one table for all of them: the dashboard's
picker and figures (dashboard.py, reports.py) and the ledger list's filter
(registrations.py)."""

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


@dataclass(frozen=True)
class Period:
    days: int  # today included
    label: "StrOrPromise"  # in the dashboard's picker
    filter_label: "StrOrPromise"  # in the ledger list's filter

    def span(self) -> tuple[datetime.date, datetime.date]:
        """Its first and last day: it ends today."""
        today = timezone.localdate()
        return today - datetime.timedelta(days=self.days - 1), today


PERIODS = {
    "today": Period(1, _("Today"), _("Today")),
    "7d": Period(7, _("7 days"), _("Last 7 days")),
    "30d": Period(30, _("30 days"), _("Last 30 days")),
}
DEFAULT_PERIOD = "30d"


def period_span(key: str) -> tuple[datetime.date, datetime.date]:
    """The first and the last day of a period; an unknown key is the default's."""
    return (PERIODS.get(key) or PERIODS[DEFAULT_PERIOD]).span()


def midnight(day: datetime.date) -> datetime.datetime:
    """Where the day begins in the site's time zone: a bound on `created_at` itself, so the
    ledger's created_at indexes serve it."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))
