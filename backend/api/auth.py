"""Sign-in: a session for the dashboard, a token for API clients."""

from django.contrib.auth import authenticate, login, logout
from django.middleware.csrf import get_token
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from api.inputs import validated


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


class SignInThrottled(APIView):
    permission_classes = [AllowAny]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"


class LoginView(SignInThrottled):
    @extend_schema(request=CredentialsIn, responses=UserOut)
    def post(self, request):
        user = _authenticated_user(request)
        login(request, user)
        get_token(request)  # sets the CSRF cookie the dashboard echoes back
        return Response(UserOut(user).data)


class TokenView(SignInThrottled):
    @extend_schema(request=CredentialsIn, responses=inline_serializer("TokenOut", {"token": serializers.CharField()}))
    def post(self, request):
        token, _ = Token.objects.get_or_create(user=_authenticated_user(request))
        return Response({"token": token.key})


class LogoutView(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request):
        logout(request)
        return Response(status=204)


class MeView(APIView):
    """Who is signed in: `{"user": null}` for nobody, so asking is never an error."""

    permission_classes = [AllowAny]

    @extend_schema(responses=inline_serializer("Me", {"user": UserOut(allow_null=True)}))
    def get(self, request):
        return Response({"user": UserOut(request.user).data if request.user.is_authenticated else None})
