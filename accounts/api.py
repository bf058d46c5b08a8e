from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView

from core.schema import error_responses

from . import login_guard
from .permissions import IsAdmin
from .selectors import user_get_profile
from .serializers import (
    LogoutInput,
    OperatorCreateInput,
    PasswordChangeInput,
    RegisterInput,
    TokenObtainInput,
    TokenPairOutput,
    TokenRefreshInput,
    UserOutput,
)
from .services import operator_create, user_change_password, user_register
from .throttles import PasswordChangeThrottle, RegisterIPThrottle
from .tokens import pair_body, refresh_token_end, refresh_token_rotate, token_pair


class RegisterApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes = [RegisterIPThrottle]

    @extend_schema(request=RegisterInput, responses={201: UserOutput})
    def post(self, request):
        data = RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_register(**data.validated_data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)


class TokenApi(TokenObtainPairView):
    """Sign in with a password, held to the login guard (429 with ``Retry-After`` while it waits)."""

    serializer_class = TokenObtainInput
    throttle_classes: list = []

    @extend_schema(request=TokenObtainInput, responses={200: TokenPairOutput, **error_responses(401, 429)})
    def post(self, request, *args, **kwargs):
        data = request.data
        attempt = login_guard.begin(username=data.get("username") if isinstance(data, dict) else None,
                                    request=request)
        response = super().post(request, *args, **kwargs)  # a wrong password raises and stays counted
        login_guard.succeeded(attempt)
        return response


class _TokenEndpoint(APIView):
    """No bearer needed (the body carries the token); a bad token is a 401 that names the scheme."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get_authenticate_header(self, request):
        return 'Bearer realm="api"'


class TokenRefreshApi(_TokenEndpoint):
    """Rotate: a new pair for a refresh token, which ends; the ended token used again ends them all."""

    @extend_schema(request=TokenRefreshInput, responses={200: TokenPairOutput, **error_responses(401)})
    def post(self, request):
        data = TokenRefreshInput(data=request.data)
        data.is_valid(raise_exception=True)
        return Response(refresh_token_rotate(data.validated_data["refresh"]))


class LogoutApi(_TokenEndpoint):
    """End a refresh token (``everywhere``: every token of the account). 204, no body."""

    @extend_schema(request=LogoutInput, responses={204: None, **error_responses(401)})
    def post(self, request):
        data = LogoutInput(data=request.data)
        data.is_valid(raise_exception=True)
        refresh_token_end(data.validated_data["refresh"], everywhere=data.validated_data["everywhere"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeApi(APIView):
    """A new password ends every token of the account; the answer is a new pair for this device."""

    permission_classes = [IsAuthenticated]
    throttle_classes = [PasswordChangeThrottle]

    @extend_schema(request=PasswordChangeInput, responses={200: TokenPairOutput})
    def post(self, request):
        data = PasswordChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = user_change_password(user=request.user, **data.validated_data)
        return Response(pair_body(token_pair(user)))


class MeApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses=UserOutput)
    def get(self, request):
        return Response(UserOutput(user_get_profile(user_id=request.user.pk)).data)


class OperatorCreateApi(APIView):
    permission_classes = [IsAdmin]

    @extend_schema(request=OperatorCreateInput, responses={201: UserOutput})
    def post(self, request):
        data = OperatorCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = operator_create(**data.validated_data)
        return Response(UserOutput(user).data, status=status.HTTP_201_CREATED)
