"""The sign-in's two addresses. The start is allauth's own view (it asks SsoProvider for
the redirect); the callback is allauth's with chatsite's adapter, which checks the ID
token's signature and this sign-in's nonce."""

from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from allauth.socialaccount.providers.openid_connect import views as oidc_views
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme

from chat.sso.verification import SsoOAuth2Adapter, nonce_stashed


def login(request: HttpRequest, provider_id: str) -> HttpResponse:
    """allauth's start of the sign-in. Its answer to the button's POST, a redirect to the
    provider, becomes a page that goes there: the pages' CSP (form-action 'self') forbids
    a form's redirect to another site, and the provider's address is known only here."""
    response: HttpResponse = oidc_views.login(request, provider_id)
    if isinstance(response, HttpResponseRedirect) and not url_has_allowed_host_and_scheme(
        response.url, allowed_hosts={request.get_host()}
    ):
        return render(request, "socialaccount/redirecting.html", {"url": response.url})
    return response


def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    adapter = SsoOAuth2Adapter(request, provider_id)
    adapter.expected_nonce = nonce_stashed(request)
    try:
        response: HttpResponse = OAuth2CallbackView.adapter_view(adapter)(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None
    return response


def signup_refused(request: HttpRequest) -> HttpResponse:
    """Where allauth would show its own sign-up form (a sign-in it cannot finish by
    itself): chatsite creates accounts from the provider's claims or not at all."""
    return render(request, "socialaccount/signup_refused.html", status=403)
