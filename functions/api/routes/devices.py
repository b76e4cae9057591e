"""/messaging/devices: the caller's devices for push notifications. Extension."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path
from message_center.api.schemas import DeviceOut, DevicesList, NewDevice

from ..context import caller_id, respond, services
from ..problems import BODY, documented

router = Router()


@router.post(
    "/messaging/devices",
    summary="Register this device for push notifications (APNS or FCM token)",
    description="Registering the same token again returns the same device (200 instead of 201).",
    responses=documented(
        {201: "The registered device", 200: "The device, registered before"},
        HTTPStatus.CONFLICT,
        *BODY,
        model=DeviceOut,
    ),
)
def register_device(body: Annotated[NewDevice, Body()]) -> Response[DeviceOut]:
    device, created = services().devices.register(caller_id(router), body.platform, body.token)
    return respond(DeviceOut.from_device(device), status_code=201 if created else 200)


@router.get(
    "/messaging/devices",
    summary="List my registered devices",
    responses=documented({200: "My devices"}, model=DevicesList),
)
def list_devices() -> Response[DevicesList]:
    devices = services().devices.list(caller_id(router))
    return respond(DevicesList(devices=[DeviceOut.from_device(d) for d in devices]))


@router.delete(
    "/messaging/devices/<deviceId>",
    summary="Stop push notifications to a device",
    responses=documented({204: "The device gets no more pushes"}, HTTPStatus.NOT_FOUND),
)
def remove_device(deviceId: Annotated[str, Path(max_length=64)]) -> Response[None]:
    services().devices.remove(caller_id(router), deviceId)
    return Response(status_code=204)
