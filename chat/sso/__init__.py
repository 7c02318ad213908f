"""Single sign-on with OpenID Connect. django-allauth does the protocol (discovery, state,
PKCE, the code exchange, the ID token's checks with PyJWT); this package adds what
chatsite needs on top: the signature and a nonce always checked, providers from the
admin, linking only by a verified email, and groups and staff from the claims."""
