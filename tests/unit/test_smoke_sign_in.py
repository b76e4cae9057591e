"""`message-center smoke --api-url`: signing in with SRP, the only flow the deployed app client allows.

moto accepts any SRP password proof, so this shows the exchange of the flow (USER_SRP_AUTH, then
PASSWORD_VERIFIER) and where the token comes from; Cognito itself checks the proof.
"""

from __future__ import annotations

import boto3
import jwt
from moto import mock_aws

from local_runtime.smoke import Account, srp_sign_in

REGION = "eu-central-1"


def test_srp_sign_in_returns_the_users_access_token(aws_env: None) -> None:
    with mock_aws():
        # Given a user pool whose app client allows SRP only, as the stack deploys it
        cognito = boto3.client("cognito-idp", region_name=REGION)
        pool = cognito.create_user_pool(PoolName="message-center")["UserPool"]["Id"]
        client = cognito.create_user_pool_client(
            UserPoolId=pool, ClientName="app", ExplicitAuthFlows=["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]
        )["UserPoolClient"]["ClientId"]
        cognito.admin_create_user(UserPoolId=pool, Username="anna_kowalska", MessageAction="SUPPRESS")
        cognito.admin_set_user_password(
            UserPoolId=pool, Username="anna_kowalska", Password="Smoke-Test-Password-1", Permanent=True
        )
        # When the smoke signs her in (the region taken from the pool id)
        token = srp_sign_in(pool, client)(Account("anna_kowalska", "Smoke-Test-Password-1"))
    # Then it holds her access token for the app client
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["token_use"] == "access"
    assert claims["client_id"] == client
    assert claims["username"] == "anna_kowalska"
