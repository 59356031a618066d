"""Sign-in: a session for the dashboard, a token for API clients."""

import hashlib
import math
from collections.abc import Mapping

from django.contrib import admin
from django.contrib.auth import authenticate, login, logout
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.views.decorators.cache import never_cache
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from api.inputs import validated
from api.parsers import JSONParser
from api.tokens import token_issue, token_revoke


class CredentialsIn(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=200, trim_whitespace=False)


class UserOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    is_staff = serializers.BooleanField()


def _authenticated_user(request):
    credentials = validated(CredentialsIn, request.data)
    user = authenticate(request, **credentials)
    if user is None:
        raise AuthenticationFailed("wrong username or password")
    return user


class ClientAddressThrottle(SimpleRateThrottle):
    """Sign-in attempts per client address: REMOTE_ADDR, or X-Forwarded-For only as far as
    NUM_PROXIES trusted proxies wrote it (a client can write the rest)."""

    scope = "login"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class UsernameThrottle(SimpleRateThrottle):
    """Sign-in attempts per account, whatever addresses they come from."""

    scope = "login_username"

    def get_cache_key(self, request, view):
        username = submitted_username(request)
        if not username:
            return None  # nothing to count: the serializer refuses the request
        return self.cache_format % {"scope": self.scope, "ident": hashlib.sha256(username.encode()).hexdigest()}


SIGN_IN_THROTTLES = (ClientAddressThrottle, UsernameThrottle)


def submitted_username(request) -> str:
    """The username as authentication sees it (the serializer strips it), folded so that a
    change of case is not a fresh count; from a DRF request or the admin's form."""
    data = request.data if isinstance(request, Request) else request.POST
    value = data.get("username") if isinstance(data, Mapping) else None
    return value.strip().casefold() if isinstance(value, str) else ""


def sign_in_wait(request) -> float | None:
    """Counts one sign-in attempt; the seconds to wait if it is over a limit, else None.
    The address is checked first, so a client over its limit has its body left unparsed."""
    for throttle in (throttle_class() for throttle_class in SIGN_IN_THROTTLES):
        if not throttle.allow_request(request, None):
            return throttle.wait() or 1.0
    return None


class SignInThrottled(APIView):
    permission_classes = [AllowAny]
    throttle_classes = list(SIGN_IN_THROTTLES)

    def check_throttles(self, request):  # DRF's would count every throttle even after a refusal
        wait = sign_in_wait(request)
        if wait is not None:
            self.throttled(request, wait)


class LoginView(SignInThrottled):
    # JSON only: a cross-site page can post a form (or multipart, or text/plain) without
    # asking, which would sign the visitor in to the attacker's account; JSON needs CORS.
    parser_classes = [JSONParser]

    @extend_schema(request=CredentialsIn, responses=UserOut)
    def post(self, request):
        user = _authenticated_user(request)
        login(request, user)
        get_token(request)  # sets the CSRF cookie the dashboard echoes back
        return Response(UserOut(user).data)


class TokenView(SignInThrottled):
    @extend_schema(request=CredentialsIn, responses=inline_serializer("TokenOut", {"token": serializers.CharField()}))
    def post(self, request):
        token = token_issue(user=_authenticated_user(request))
        return Response({"token": token.key})


class LogoutView(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        if isinstance(request.auth, Token):  # signed in by this token: signing out revokes it
            token_revoke(token=request.auth)
        logout(request)
        return Response(status=204)


class MeView(APIView):
    """Who is signed in: `{"user": null}` for nobody, so asking is never an error."""

    permission_classes = [AllowAny]

    @extend_schema(responses=inline_serializer("Me", {"user": UserOut(allow_null=True)}))
    def get(self, request):
        return Response({"user": UserOut(request.user).data if request.user.is_authenticated else None})


@never_cache
def admin_login(request, extra_context=None):
    """The admin's sign-in, under the same per-address and per-username counts as the API's."""
    if request.method == "POST":
        wait = sign_in_wait(request)
        if wait is not None:
            return HttpResponse(
                "Too many sign-in attempts; try again later.",
                status=429,
                content_type="text/plain",
                headers={"Retry-After": str(math.ceil(wait))},
            )
    return admin.site.login(request, extra_context)
