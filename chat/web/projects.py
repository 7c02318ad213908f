"""A user's projects over HTTP: the list and a new one (/projects/), one to change or
delete with its conversations (/projects/<id>/), and moving a conversation into one.
Another user's project answers exactly like a missing one."""

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from chat import texts
from chat.models import Project, User
from chat.selectors import document_list
from chat.services.conversations.parameters import SettingsInvalid
from chat.services.conversations.projects import (
    ProjectFields,
    conversation_move,
    project_delete,
    project_get,
    project_save,
)
from chat.services.providers import providers_enabled
from chat.web.authenticated import AuthenticatedHttpRequest
from chat.web.views import _conversation_404, _json_body, _json_view, _missing_is_404

_project_404 = _missing_is_404(Project.DoesNotExist, texts.PROJECT_NOT_FOUND)


class ProjectForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("Name"))
    system_prompt = forms.CharField(
        label=_("Instructions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Sent before every conversation of the project (before its own system prompt)."
        ),
    )
    provider = forms.ChoiceField(
        required=False, label=_("Provider"), help_text=_("The provider of the model below.")
    )
    model = forms.CharField(
        required=False,
        max_length=200,
        label=_("Model"),
        help_text=_(
            "The model its new conversations start with, as the model picker names "
            "it; empty: the site's default."
        ),
    )
    temperature = forms.CharField(
        required=False, label=_("Temperature"), help_text=_("0 to 2; empty: the model's default.")
    )
    documents = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Documents"),
        help_text=_("From your library: they go with every question of the project."),
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["documents"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(str(d.pk), d.name) for d in document_list(user=user)]
        provider = self.fields["provider"]
        assert isinstance(provider, forms.ChoiceField)
        provider.choices = [(p.slug, p.title or p.name) for p in providers_enabled()]


def _initial(project: Project) -> dict[str, Any]:
    return {
        "name": project.name,
        "system_prompt": project.system_prompt,
        "provider": project.provider,
        "model": project.model,
        "temperature": project.parameters.get("temperature", ""),
        "documents": [str(pk) for pk in project.documents.values_list("pk", flat=True)],
    }


def _saved(
    request: AuthenticatedHttpRequest, form: ProjectForm, project_id: int | None
) -> Project | None:
    """The project saved from a valid form, or None with the form's errors set."""
    if not form.is_valid():
        return None
    data = form.cleaned_data
    fields = ProjectFields(
        name=data["name"],
        settings={"system_prompt": data["system_prompt"], "temperature": data["temperature"]},
        provider=data["provider"],
        model=data["model"].strip(),
        document_ids=[int(pk) for pk in data["documents"]],
    )
    try:
        return project_save(user=request.user, fields=fields, project_id=project_id)
    except SettingsInvalid as exc:
        for name, message in exc.errors.items():
            form.add_error(name if name in form.fields else None, message)
        return None


@require_http_methods(["GET", "POST"])
@login_required
def projects(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ProjectForm(request.POST or None, user=request.user)
    if request.method == "POST" and (project := _saved(request, form, None)):
        return HttpResponseRedirect(reverse("chat:project", args=[project.pk]))
    listed = Project.objects.filter(user=request.user)
    return render(request, "chat/projects.html", {"form": form, "projects": listed})


@require_http_methods(["GET", "POST"])
@login_required
@_project_404
def project_detail(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project = project_get(user=request.user, project_id=project_id)
    form = ProjectForm(request.POST or None, user=request.user, initial=_initial(project))
    saved = request.method == "POST" and _saved(request, form, project.pk)
    if saved:
        return HttpResponseRedirect(reverse("chat:project", args=[project.pk]))
    conversations = project.conversations.filter(user=request.user).order_by("-updated_at")
    context = {"form": form, "project": project, "conversations": conversations}
    return render(request, "chat/project.html", context)


@require_POST
@login_required
@_project_404
def project_delete_view(request: AuthenticatedHttpRequest, project_id: int) -> HttpResponse:
    project_delete(user=request.user, project_id=project_id)
    return HttpResponseRedirect(reverse("chat:projects"))


@require_POST
@login_required
@_json_view
@_conversation_404
@_project_404
def conversation_move_view(request: AuthenticatedHttpRequest, conversation_id: int) -> JsonResponse:
    """{"project_id": id} puts the conversation in that project; null in none."""
    data = _json_body(request)
    project_id = data.get("project_id") if isinstance(data, dict) else "missing"
    if project_id is not None and (not isinstance(project_id, int) or isinstance(project_id, bool)):
        return JsonResponse({"ok": False, "error": texts.PROJECT_ID_INVALID})
    conversation_move(user=request.user, conversation_id=conversation_id, project_id=project_id)
    return JsonResponse({"ok": True, "project_id": project_id})
