from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from .permissions import IsAdmin
from .selectors import user_get_profile
from .serializers import OperatorCreateInput, RegisterInput, UserOutput
from .services import operator_create, user_register
from .throttles import LoginIPThrottle, LoginUsernameThrottle, RegisterIPThrottle


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
    throttle_classes = [LoginIPThrottle, LoginUsernameThrottle]


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
