"""The admin's usage dashboard: totals per user and per model for a period, tokens and
cost per day, drill-down to one user's requests, CSV export."""

import csv
import datetime
import io
from collections.abc import Iterator
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.contrib.auth.models import Group
from django.http import HttpRequest, HttpResponseBase, StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from chat.admin.charts import day_bars, ranked_bars
from chat.admin.periods import DEFAULT_PERIOD, PERIODS, midnight, period_span
from chat.admin.reports import (
    CSV_COLUMNS,
    UsageFilter,
    usage_by_day,
    usage_by_group,
    usage_by_key,
    usage_by_model,
    usage_by_user,
    usage_models_seen,
    usage_rows,
    usage_totals,
)
from chat.models import User

TOP_USERS = 8  # the per-user chart's bars (the rest as "Others"); the table lists all
MAX_RANGE_DAYS = 400
CSV_BLOCK_ROWS = 1000


class DashboardForm(forms.Form):
    period = forms.ChoiceField(
        label=gettext_lazy("Period"),
        choices=[
            *((key, period.label) for key, period in PERIODS.items()),
            ("range", gettext_lazy("Range")),
        ],
        initial=DEFAULT_PERIOD,
        required=False,
    )
    start = forms.DateField(
        label=gettext_lazy("Start"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=gettext_lazy("End"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    user = forms.CharField(required=False, label=gettext_lazy("User name"))
    group = forms.ModelChoiceField(
        queryset=Group.objects.order_by("name"),
        required=False,
        label=gettext_lazy("Group"),
        empty_label=gettext_lazy("All groups"),
    )
    model = forms.ChoiceField(required=False, label=gettext_lazy("Model"))
    provider = forms.CharField(required=False, label=gettext_lazy("Provider"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read once per form: a callable's choices would be read again at every use.
        model = cast(forms.ChoiceField, self.fields["model"])
        model.choices = [("", _("All models"))] + [(m, m) for m in usage_models_seen()]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if data.get("period") == "range":
            start, end = data.get("start"), data.get("end")
            if not start or not end:
                raise forms.ValidationError(_("A range needs a start and an end date."))
            if end < start:
                raise forms.ValidationError(_("The range ends before it starts."))
            if (end - start).days >= MAX_RANGE_DAYS:
                raise forms.ValidationError(
                    _("A range is at most %(days)d days.") % {"days": MAX_RANGE_DAYS}
                )
        username = data.get("user")
        if username:
            data["user_id"] = (
                User.objects.filter(username=username).values_list("pk", flat=True).first()
            )
            if data["user_id"] is None:
                self.add_error("user", _("No user with that name."))
        return data

    def usage_filter(self) -> UsageFilter:
        data = self.cleaned_data if self.is_valid() else {}
        if data.get("period") == "range":
            start, end = data["start"], data["end"]
        else:
            start, end = period_span(data.get("period") or DEFAULT_PERIOD)
        return UsageFilter(
            start=start,
            end=end,
            user_id=data.get("user_id"),
            group_id=data["group"].pk if data.get("group") else None,
            model=data.get("model") or "",
            provider=data.get("provider") or "",
        )


def dashboard_charts(
    days: list[dict[str, Any]], by_model: list[dict[str, Any]], by_user: list[dict[str, Any]]
) -> dict[str, SafeString]:
    """The dashboard's four charts, from the figures its tables show."""
    no_usage = _("No usage in this period.")
    return {
        "tokens_per_day": day_bars(
            [(day["day"], day["total_tokens"]) for day in days],
            title=_("Tokens per day"),
            value_name=_("Tokens"),
            empty_text=no_usage,
            css_class="dash-chart",
        ),
        "cost_per_day": day_bars(
            [(day["day"], day["cost"]) for day in days],
            title=_("Cost per day"),
            value_name=_("Cost"),
            decimals=4,
            empty_text=no_usage,
            css_class="dash-chart cost",
        ),
        "by_model": ranked_bars(
            [(row["model"], row["total_tokens"]) for row in by_model],
            title=_("Tokens per model"),
            name_heading=_("Model"),
            value_name=_("Tokens"),
            empty_text=no_usage,
            css_class="dash-rank",
        ),
        "by_user": ranked_bars(
            [(row["user__username"], row["total_tokens"]) for row in by_user],
            title=_("Tokens per user"),
            name_heading=_("User"),
            value_name=_("Tokens"),
            limit=TOP_USERS,
            empty_text=no_usage,
            css_class="dash-rank",
        ),
    }


def _drilldown_url(user_id: int, f: UsageFilter) -> str:
    query = urlencode(
        {
            "user__id__exact": user_id,
            "created_at__gte": midnight(f.start).isoformat(),
            "created_at__lt": midnight(f.end + datetime.timedelta(days=1)).isoformat(),
        }
    )
    return f"{reverse('admin:chat_usage_changelist')}?{query}"


def usage_dashboard(request: HttpRequest) -> HttpResponseBase:
    form = DashboardForm(request.GET or {"period": DEFAULT_PERIOD})
    # Groups and what their members used are shown to those who may see the groups.
    groups_visible = request.user.has_perm("auth.view_group")
    if not groups_visible:
        del form.fields["group"]
    f = form.usage_filter()
    if request.GET.get("format") == "csv":
        return _csv(f, with_groups=groups_visible)
    by_user = usage_by_user(f)
    for row in by_user:
        row["drilldown"] = _drilldown_url(row["user_id"], f)
    days = usage_by_day(f)
    by_model = usage_by_model(f)
    context = {
        **admin.site.each_context(request),
        "title": _("Usage dashboard"),
        "form": form,
        "filter": f,
        "periods": PERIODS,
        "totals": usage_totals(f),
        "by_user": by_user,
        "by_model": by_model,
        "by_group": usage_by_group(f) if groups_visible else None,
        "by_key": usage_by_key(f),
        "days": days,
        "charts": dashboard_charts(days, by_model, by_user),
        "csv_query": _with(request, format="csv"),
        # A group's name links to the dashboard narrowed to it, the rest of the filter kept.
        "group_query": _without(request, "group", "format"),
    }
    return TemplateResponse(request, "admin/chat/usage_dashboard.html", context)


def _with(request: HttpRequest, **params: str) -> str:
    query = request.GET.copy()
    for key, value in params.items():
        query[key] = value
    return query.urlencode()


def _without(request: HttpRequest, *names: str) -> str:
    """The query without `names`, ready for one more parameter ("…&" or "")."""
    query = request.GET.copy()
    for name in names:
        query.pop(name, None)
    text = query.urlencode()
    return f"{text}&" if text else ""


def _csv(f: UsageFilter, *, with_groups: bool) -> StreamingHttpResponse:
    """Streamed in blocks of rows, so a long range never builds the whole file in memory."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def blocks() -> Iterator[str]:
        writer.writerow(CSV_COLUMNS)
        for n, row in enumerate(usage_rows(f, with_groups=with_groups), 1):
            writer.writerow(row)
            if n % CSV_BLOCK_ROWS == 0:
                yield _drain(buffer)
        yield _drain(buffer)

    response = StreamingHttpResponse(blocks(), content_type="text/csv; charset=utf-8")
    name = f"chatsite-usage-{f.start:%Y%m%d}-{f.end:%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
