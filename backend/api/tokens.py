"""API tokens (DRF's authtoken): they expire after API_TOKEN_TTL_HOURS, and signing out
with one revokes it. The same rules hold for the REST API and the live socket's `?token=`.

Keys are stored as DRF stores them, in plain text: DRF's Token model uses the raw key as its
primary key, so storing a digest instead needs our own model, a migration and a one-off
re-issue of every token (README, API)."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed


def token_expired(token: Token) -> bool:
    return token.created < timezone.now() - timedelta(hours=settings.API_TOKEN_TTL_HOURS)


def token_issue(*, user) -> Token:
    """The user's live token, or a fresh one if theirs expired (one token per user in DRF)."""
    token, _ = Token.objects.get_or_create(user=user)
    if token_expired(token):
        token.delete()
        token = Token.objects.create(user=user)
    return token


def token_revoke(*, token: Token) -> None:
    Token.objects.filter(pk=token.pk).delete()


def token_user(key: str):
    """The active user a live token belongs to, else None; an expired token is deleted."""
    try:  # the REST API's checks, so the socket's sign-in cannot drift from them
        return ExpiringTokenAuthentication().authenticate_credentials(key)[0]
    except AuthenticationFailed:
        return None


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            token_revoke(token=token)
            raise AuthenticationFailed("token expired: sign in again")
        return user, token
