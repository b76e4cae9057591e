"""What the directory loader asks Cognito for each user (message_center.adapters.cognito), through
botocore's Stubber: an invitation e-mail for new users on AWS, none locally, and a new one on
request for users who never signed in."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from message_center.adapters.cognito import CognitoIdentities, Invitations

from local_runtime.cli import _build_parser, directory_invitations

POOL = "eu-central-1_Test"
LOGIN = "anna_kowalska"
EMAIL = "anna.kowalska@example.com"
SUB = "4a1f0c9e-2b7d-4e8a-9c61-0d3e5f7a8b90"
VERIFIED_EMAIL = [{"Name": "email", "Value": EMAIL}, {"Name": "email_verified", "Value": "true"}]


@pytest.fixture
def cognito() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "cognito-idp", region_name="eu-central-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def _unknown_user(stubber: Stubber) -> None:
    stubber.add_client_error(
        "admin_get_user", "UserNotFoundException", expected_params={"UserPoolId": POOL, "Username": LOGIN}
    )


def _existing_user(stubber: Stubber, status: str) -> None:
    stubber.add_response(
        "admin_get_user",
        {"Username": LOGIN, "UserStatus": status, "UserAttributes": [{"Name": "sub", "Value": SUB}, *VERIFIED_EMAIL]},
        expected_params={"UserPoolId": POOL, "Username": LOGIN},
    )


def _created(stubber: Stubber, **expected: Any) -> None:
    stubber.add_response(
        "admin_create_user",
        {
            "User": {
                "Username": LOGIN,
                "Attributes": [{"Name": "sub", "Value": SUB}],
                "UserStatus": "FORCE_CHANGE_PASSWORD",
            }
        },
        expected_params={"UserPoolId": POOL, "Username": LOGIN, **expected},
    )


def test_on_aws_a_new_user_gets_cognitos_invitation_by_email(cognito: tuple[Any, Stubber]) -> None:
    client, stubber = cognito
    # Given a login the pool does not know, loaded with invitations
    _unknown_user(stubber)
    # Then the user is created with a verified address and Cognito e-mails the invitation
    # (a temporary password it generates, in the pool's invitation template)
    _created(stubber, UserAttributes=VERIFIED_EMAIL, DesiredDeliveryMediums=["EMAIL"])

    # When the loader ensures the user
    assert CognitoIdentities(client, POOL, Invitations.NEW_USERS).ensure_user(LOGIN, EMAIL) == SUB


def test_without_invitations_a_new_user_gets_no_email(cognito: tuple[Any, Stubber]) -> None:
    client, stubber = cognito
    # Given a login the pool does not know, loaded without invitations (the local runtime)
    _unknown_user(stubber)
    # Then Cognito is told to send nothing
    _created(stubber, UserAttributes=VERIFIED_EMAIL, MessageAction="SUPPRESS")

    # When the loader ensures the user
    assert CognitoIdentities(client, POOL).ensure_user(LOGIN, EMAIL) == SUB


@pytest.mark.parametrize("invitations", [Invitations.NEW_USERS, Invitations.SUPPRESS])
def test_loading_again_invites_nobody_twice(cognito: tuple[Any, Stubber], invitations: Invitations) -> None:
    client, stubber = cognito
    # Given a user who exists and has not signed in yet
    _existing_user(stubber, "FORCE_CHANGE_PASSWORD")

    # When the same directory is loaded again (the stubber refuses any call not added here)
    # Then nothing is created or sent
    assert CognitoIdentities(client, POOL, invitations).ensure_user(LOGIN, EMAIL) == SUB


def test_resending_invites_again_only_users_who_never_signed_in(cognito: tuple[Any, Stubber]) -> None:
    client, stubber = cognito
    identities = CognitoIdentities(client, POOL, Invitations.RESEND)
    # Given a user who never signed in: Cognito sends a new temporary password
    _existing_user(stubber, "FORCE_CHANGE_PASSWORD")
    _created(stubber, MessageAction="RESEND", DesiredDeliveryMediums=["EMAIL"])
    assert identities.ensure_user(LOGIN, EMAIL) == SUB
    # and one with a password of their own: nothing is sent
    _existing_user(stubber, "CONFIRMED")
    assert identities.ensure_user(LOGIN, EMAIL) == SUB


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ([], Invitations.NEW_USERS),
        (["--local"], Invitations.SUPPRESS),
        (["--no-invite"], Invitations.SUPPRESS),
        (["--local", "--invite"], Invitations.NEW_USERS),
        (["--resend-invitations"], Invitations.RESEND),
        (["--resend-invitations", "--no-invite"], None),
    ],
    ids=["aws", "local", "aws-no-invite", "local-invite", "resend", "contradiction"],
)
def test_directory_load_invites_on_aws_and_not_locally(options: list[str], expected: Invitations | None) -> None:
    # Given `message-center directory load` with these options
    arguments = _build_parser().parse_args(["directory", "load", "directory.json", *options])
    # When / Then this is what Cognito is asked to send (None: refused as contradicting)
    assert directory_invitations(arguments) is expected
