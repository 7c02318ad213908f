"""The sign-in's two addresses. The start is allauth's own view (it asks SsoProvider for
the redirect); the callback is allauth's with chatsite's adapter, which checks the ID
token's signature and this sign-in's nonce."""

import logging

from allauth.socialaccount.models import SocialApp
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from allauth.socialaccount.providers.openid_connect import views as oidc_views
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from requests import RequestException

from chat.sso.providers import OIDC
from chat.sso.verification import SsoOAuth2Adapter, nonce_stashed

logger = logging.getLogger(__name__)

# What a provider that cannot be reached, or answers what OpenID Connect does not allow,
# raises in allauth's code outside its own error handling.
PROVIDER_FAULTS = (RequestException, KeyError, TypeError, ValueError)


def _provider_known(provider_id: str) -> None:
    # allauth also reads a provider id as the protocol's name, which names them all.
    if provider_id == OIDC:
        raise Http404


def _provider_fault(request: HttpRequest, provider_id: str, error: Exception) -> HttpResponse:
    logger.warning("SSO provider %s failed: %s", provider_id, type(error).__name__)
    return render(request, "socialaccount/authentication_error.html", status=502)


def login(request: HttpRequest, provider_id: str) -> HttpResponse:
    """allauth's start of the sign-in. Its answer to the button's POST, a redirect to the
    provider, becomes a page that goes there: the pages' CSP (form-action 'self') forbids
    a form's redirect to another site, and the provider's address is known only here."""
    _provider_known(provider_id)
    if request.method != "POST":
        return redirect("login")  # the sign-in starts from the login page's button
    try:
        response: HttpResponse = oidc_views.login(request, provider_id)
    except PROVIDER_FAULTS as error:
        return _provider_fault(request, provider_id, error)
    if isinstance(response, HttpResponseRedirect) and not url_has_allowed_host_and_scheme(
        response.url, allowed_hosts={request.get_host()}
    ):
        return render(request, "socialaccount/redirecting.html", {"url": response.url})
    return response


def callback(request: HttpRequest, provider_id: str) -> HttpResponse:
    _provider_known(provider_id)
    adapter = SsoOAuth2Adapter(request, provider_id)
    adapter.expected_nonce = nonce_stashed(request)
    try:
        response: HttpResponse = OAuth2CallbackView.adapter_view(adapter)(request)
    except SocialApp.DoesNotExist:
        raise Http404 from None
    except PROVIDER_FAULTS as error:
        return _provider_fault(request, provider_id, error)
    return response


def signup_refused(request: HttpRequest) -> HttpResponse:
    """Where allauth would show its own sign-up form (a sign-in it cannot finish by
    itself): chatsite creates accounts from the provider's claims or not at all."""
    return render(request, "socialaccount/signup_refused.html", status=403)
