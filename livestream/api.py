"""HTTP endpoints of live streams: parse, check, call one service or selector, render."""

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsMerchant
from core.idempotency import idempotent
from core.parsers import FORM_PARSERS, UPLOAD_PARSERS

from . import selectors, services
from .serializers import (
    ChatMessageOutput,
    HookForm,
    MuteInput,
    MuteOutput,
    OfferCreateInput,
    OfferOutput,
    PinInput,
    StreamCreateInput,
    StreamDetailOutput,
    StreamListFilter,
    StreamListOutput,
    StreamUpdateInput,
)
from .services.streams import HookRefused, hook_authorized


def render_stream(request, stream_id: int, *, status_code=status.HTTP_200_OK) -> Response:
    stream = selectors.stream_detail(user=request.user, stream_id=stream_id)
    return Response(StreamDetailOutput(stream, context={"request": request}).data, status=status_code)


class StreamListApi(generics.ListAPIView):
    parser_classes = UPLOAD_PARSERS  # a file may come with the body
    """Streams by status, for anyone. POST: an approved merchant schedules one."""

    serializer_class = StreamListOutput
    filter_backends: list = []

    def get_permissions(self):
        return [IsMerchant()] if self.request.method == "POST" else [AllowAny()]

    def get_queryset(self):
        params = StreamListFilter(data=self.request.query_params)
        params.is_valid(raise_exception=True)
        return selectors.stream_list(user=self.request.user, **params.validated_data)

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["viewers"] = getattr(self, "_viewers", {})
        return context

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        self._viewers = selectors.stream_viewer_counts(page if page is not None else queryset)
        return page

    @extend_schema(parameters=[StreamListFilter])
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(request=StreamCreateInput, responses={201: StreamDetailOutput})
    def post(self, request):
        data = StreamCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        stream = services.stream_create(user=request.user, **data.validated_data)
        return render_stream(request, stream.pk, status_code=status.HTTP_201_CREATED)


class StreamDetailApi(APIView):
    parser_classes = UPLOAD_PARSERS  # a new cover may come with the body
    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "PATCH" else [AllowAny()]

    @extend_schema(responses=StreamDetailOutput, description=_(
        "Anyone: the stream with its viewers, pinned product, live offers and, once ended, its totals. "
        "The owner also gets stream_key, ingest_url and ingest_active."))
    def get(self, request, stream_id: int):
        return render_stream(request, stream_id)

    @extend_schema(request=StreamUpdateInput, responses=StreamDetailOutput)
    def patch(self, request, stream_id: int):
        data = StreamUpdateInput(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.stream_update(stream_id=stream_id, actor=request.user, **data.validated_data)
        return render_stream(request, stream_id)


def _action_api(service, doc: str):
    class StreamActionApi(APIView):
        permission_classes = [IsAuthenticated]

        @extend_schema(request=None, responses=StreamDetailOutput, description=doc, operation_id=None)
        def post(self, request, stream_id: int):
            service(stream_id=stream_id, actor=request.user)
            return render_stream(request, stream_id)

    StreamActionApi.__name__ = StreamActionApi.__qualname__ = f"Stream{service.__name__.title().replace('_', '')}Api"
    return StreamActionApi


StreamStartApi = _action_api(services.stream_start, _("The owner goes live by hand (scheduled → live)."))
StreamEndApi = _action_api(services.stream_end, _("The owner ends the stream (live → ended); its offers end."))
StreamCancelApi = _action_api(services.stream_cancel, _("The owner cancels a scheduled stream."))
StreamKeyRotateApi = _action_api(services.stream_key_rotate,
                                 _("A new secret stream key; the old one stops working (not while pushing)."))


class StreamPinApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=PinInput, responses=StreamDetailOutput)
    def post(self, request, stream_id: int):
        data = PinInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.stream_pin(stream_id=stream_id, actor=request.user, product_id=data.validated_data["product"])
        return render_stream(request, stream_id)


class OfferListApi(generics.ListAPIView):
    """A stream's flash offers, newest first. POST (owner, stream live): launch one."""

    serializer_class = OfferOutput
    filter_backends: list = []

    def get_permissions(self):
        return [IsAuthenticated()] if self.request.method == "POST" else [AllowAny()]

    def get_queryset(self):
        return selectors.stream_offers(user=self.request.user, stream_id=self.kwargs["stream_id"])

    @extend_schema(request=OfferCreateInput, responses={201: OfferOutput})
    @idempotent
    def post(self, request, stream_id: int):
        data = OfferCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        offer = services.offer_start(stream_id=stream_id, actor=request.user, product_id=values["product"],
                                     price=values["price"], quantity=values["quantity"],
                                     per_buyer_limit=values.get("per_buyer_limit"),
                                     duration_s=values["duration_s"])
        return Response(OfferOutput(offer).data, status=status.HTTP_201_CREATED)


class OfferEndApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=OfferOutput, description=_("The owner ends an offer early."))
    def post(self, request, stream_id: int, offer_id: int):
        offer = services.offer_cancel(stream_id=stream_id, offer_id=offer_id, actor=request.user)
        return Response(OfferOutput(offer).data)


class ChatMessageListApi(generics.ListAPIView):
    """Recent chat, newest first, for late joiners and moderation."""

    serializer_class = ChatMessageOutput
    permission_classes = [AllowAny]
    filter_backends: list = []

    def get_queryset(self):
        return selectors.chat_messages(user=self.request.user, stream_id=self.kwargs["stream_id"])


class ChatMessageDeleteApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None}, description=_("The owner takes a line down; the room hears chat.deleted."))
    def delete(self, request, stream_id: int, message_id: int):
        services.chat_message_delete(stream_id=stream_id, message_id=message_id, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ChatMuteListApi(generics.ListAPIView):
    """The owner's muted chatters. POST mutes one."""

    serializer_class = MuteOutput
    permission_classes = [IsAuthenticated]
    filter_backends: list = []

    def get_queryset(self):
        return selectors.chat_mutes(user=self.request.user, stream_id=self.kwargs["stream_id"])

    @extend_schema(request=MuteInput, responses={201: MuteOutput})
    def post(self, request, stream_id: int):
        data = MuteInput(data=request.data)
        data.is_valid(raise_exception=True)
        mute = services.chat_mute(stream_id=stream_id, user_id=data.validated_data["user"], actor=request.user)
        return Response(MuteOutput(mute).data, status=status.HTTP_201_CREATED)


class ChatUnmuteApi(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={204: None})
    def delete(self, request, stream_id: int, user_id: int):
        services.chat_unmute(stream_id=stream_id, user_id=user_id, actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- the media server's hooks ---------------------------------------------------------------


class _HookApi(APIView):
    parser_classes = FORM_PARSERS  # nginx-rtmp posts its on_publish form
    permission_classes = [AllowAny]
    authentication_classes: list = []
    throttle_classes: list = []

    def _form(self, request, call: str) -> dict:
        if not hook_authorized(secret=request.query_params.get("secret"), addr=request.META.get("REMOTE_ADDR")):
            raise HookRefused()
        form = HookForm(data=request.data)
        form.is_valid(raise_exception=True)
        values = form.validated_data
        if values["call"] and values["call"] != call:
            raise HookRefused()
        return values


class PublishHookApi(_HookApi):
    @extend_schema(
        request={"application/x-www-form-urlencoded": HookForm},
        responses={302: OpenApiResponse(description=_(
            "Accepted: Location holds the stream's public playback id, which nginx-rtmp publishes "
            "(and writes HLS) under instead of the secret key.")),
            403: OpenApiResponse(description=_("Refused: the media server drops the push."))},
        description=_("nginx-rtmp on_publish (?secret=MEDIA_HOOK_SECRET): a valid key takes the stream live."),
    )
    def post(self, request):
        values = self._form(request, "publish")
        stream = services.stream_publish(key=values["name"], app=values["app"], encoder_addr=values["addr"])
        response = HttpResponse(status=302)
        response["Location"] = stream.playback_id
        return response


class UnpublishHookApi(_HookApi):
    @extend_schema(
        request={"application/x-www-form-urlencoded": HookForm},
        responses={204: None, 403: OpenApiResponse(description=_("Bad secret."))},
        description=_("nginx-rtmp on_publish_done: the encoder stopped; a live stream pushed with that key ends."),
    )
    def post(self, request):
        values = self._form(request, "publish_done")
        services.stream_unpublish(key=values["name"])
        return Response(status=status.HTTP_204_NO_CONTENT)
