"""`message-center directory load` against a deployed stack (moto): users are created for a first
sign-in through Cognito's invitation, with a temporary password they must replace."""

from __future__ import annotations

import json

import boto3

from local_runtime.cli import main
from tests.conftest import DIRECTORY_FILE, REGION, TABLE


def test_loading_into_aws_creates_users_who_choose_a_password_at_first_sign_in(aws, capsys):
    # Given the stack's table and user pool
    pool = aws.directory.user_pool_id

    # When the directory is loaded the way the README says for a deployed stack
    status = main(["directory", "load", str(DIRECTORY_FILE), "--table", TABLE, "--user-pool-id", pool])

    # Then it succeeds and says that Cognito sent the invitations
    output = capsys.readouterr().out
    assert status == 0, output
    assert "Invitations: Cognito e-mailed each new user a temporary password." in output
    # and every user waits for a first sign-in with the temporary password, with a verified
    # address (so "forgot password" can reach them later)
    cognito = boto3.client("cognito-idp", region_name=REGION)
    logins = [user["login"] for user in json.loads(DIRECTORY_FILE.read_text())["users"]]
    for login in logins:
        user = cognito.admin_get_user(UserPoolId=pool, Username=login)
        assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD", login
        assert {"Name": "email_verified", "Value": "true"} in user["UserAttributes"], login
