from __future__ import annotations

from typing import Any

Resource = tuple[str, dict[str, Any]]


def test_user_pool_signs_in_by_login_without_self_sign_up(user_pool: Resource) -> None:
    # Given / When the synthesized user pool
    _, pool = user_pool
    props = pool["Properties"]

    # Then accounts are provisioned by the marketplace and the username is the login
    assert props["AdminCreateUserConfig"] == {"AllowAdminCreateUserOnly": True}
    assert "UsernameAttributes" not in props
    assert "AliasAttributes" not in props
    assert props["UsernameConfiguration"] == {"CaseSensitive": False}
    assert {"Name": "email", "Required": True, "Mutable": True} in props["Schema"]
    assert pool["DeletionPolicy"] == "Retain"


def test_user_pool_requires_a_strong_password(user_pool: Resource) -> None:
    # Given / When the synthesized user pool
    _, pool = user_pool
    policy = pool["Properties"]["Policies"]["PasswordPolicy"]

    # Then
    assert policy["MinimumLength"] >= 12
    assert policy["RequireLowercase"] is True
    assert policy["RequireUppercase"] is True
    assert policy["RequireNumbers"] is True
    assert policy["RequireSymbols"] is True


def test_app_client_is_public_with_srp_and_refresh_only(user_pool_client: Resource) -> None:
    # Given / When the synthesized app client
    _, client = user_pool_client
    props = client["Properties"]

    # Then it has no secret, only SRP sign-in plus refresh, and no hosted-UI OAuth flows
    assert props["GenerateSecret"] is False
    assert sorted(props["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]
    assert props["AllowedOAuthFlowsUserPoolClient"] is False
    assert "CallbackURLs" not in props
    assert props["PreventUserExistenceErrors"] == "ENABLED"
