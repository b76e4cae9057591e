"""/messaging/me: the caller's profile (preferred language) and unread badge. Extension."""

from __future__ import annotations

from http import HTTPStatus
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body
from message_center.api.schemas import Badge, ProfileOut, ProfileUpdate

from ..context import caller_id, respond, services
from ..problems import BODY, documented

router = Router()


@router.get(
    "/messaging/me",
    summary="My profile: login, marketplace, preferred language, unread badge",
    responses=documented({200: "My profile"}, HTTPStatus.NOT_FOUND, model=ProfileOut),
)
def get_profile() -> Response[ProfileOut]:
    return respond(ProfileOut.from_user(services().profile.get(caller_id(router))))


@router.patch(
    "/messaging/me",
    summary="Change my preferred language (pl, en, uk) and whether I send read receipts",
    responses=documented({200: "My changed profile"}, HTTPStatus.NOT_FOUND, *BODY, model=ProfileOut),
)
def update_profile(body: Annotated[ProfileUpdate, Body()]) -> Response[ProfileOut]:
    user = services().profile.update(
        caller_id(router), language=body.preferred_language, read_receipts=body.read_receipts
    )
    return respond(ProfileOut.from_user(user))


@router.get(
    "/messaging/me/badge",
    summary="My unread badge: how many of my threads are unread",
    responses=documented({200: "My unread badge"}, HTTPStatus.NOT_FOUND, model=Badge),
)
def get_badge() -> Response[Badge]:
    return respond(Badge(unread_threads=services().profile.get(caller_id(router)).unread_threads))
