from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from . import login_guard
from .permissions import IsAdmin
from .selectors import user_get_profile
from .serializers import OperatorCreateInput, RegisterInput, UserOutput
from .services import operator_create, user_register
from .throttles import RegisterIPThrottle


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

    throttle_classes: list = []

    def post(self, request, *args, **kwargs):
        data = request.data
        attempt = login_guard.begin(username=data.get("username") if isinstance(data, dict) else None,
                                    request=request)
        response = super().post(request, *args, **kwargs)  # a wrong password raises and stays counted
        login_guard.succeeded(attempt)
        return response


class TokenRefreshApi(TokenRefreshView):
    pass


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
