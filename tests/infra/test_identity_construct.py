from __future__ import annotations

from typing import Any

import pytest

from infra.identity_construct import invitation_email

Resource = tuple[str, dict[str, Any]]


def _text(value: Any) -> str:
    """A CloudFormation string with its references written as ``${Id.Attr}``."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        separator, parts = value["Fn::Join"]
        return str(separator).join(_text(part) for part in parts)
    if "Fn::GetAtt" in value:
        resource, attribute = value["Fn::GetAtt"]
        return f"${{{resource}.{attribute}}}"
    return f"${{{value['Ref']}}}"


def test_user_pool_signs_in_by_login_without_self_sign_up(user_pool: Resource) -> None:
    # Given / When the synthesized user pool
    _, pool = user_pool
    props = pool["Properties"]

    # Then accounts are provisioned by the marketplace and the username is the login
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
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


def test_a_new_user_is_invited_to_the_web_client_with_a_temporary_password(
    user_pool: Resource, distribution: Resource
) -> None:
    # Given the invitation Cognito sends when the directory loader creates a user
    props = user_pool[1]["Properties"]
    invitation = props["AdminCreateUserConfig"]["InviteMessageTemplate"]
    body = _text(invitation["EmailMessage"])

    # Then it names the login and the temporary password once each, and links to the web client
    assert body.count("{username}") == 1 and body.count("{####}") == 1
    web_url = f"https://${{{distribution[0]}.DomainName}}"
    assert f'<a href="{web_url}">{web_url}</a>' in body
    # in Polish, English and Ukrainian, with the password's validity as the pool enforces it
    assert "Zaloguj się" in body and "Sign in at" in body and "Увійдіть" in body
    days = props["Policies"]["PasswordPolicy"]["TemporaryPasswordValidityDays"]
    assert f"ważne {days} dni" in body and f"valid for {days} days" in body and f"дійсний {days} дні" in body
    assert invitation["EmailSubject"] == "Centrum wiadomości / Message Center / Центр повідомлень"


def test_forgotten_passwords_are_reset_with_a_code_sent_to_the_verified_email(user_pool: Resource) -> None:
    # Given / When the synthesized pool
    props = user_pool[1]["Properties"]

    # Then recovery is by e-mail only, addresses are verified, and the code message is readable
    assert props["AccountRecoverySetting"] == {"RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]}
    assert props["AutoVerifiedAttributes"] == ["email"]
    template = props["VerificationMessageTemplate"]
    assert template["DefaultEmailOption"] == "CONFIRM_WITH_CODE"
    assert template["EmailMessage"].count("{####}") == 1
    assert "nowe hasło" in template["EmailMessage"] and "new password" in template["EmailMessage"]


@pytest.mark.parametrize(("days", "word"), [(1, "день"), (3, "дні"), (7, "днів"), (12, "днів"), (22, "дні")])
def test_the_invitation_counts_days_in_ukrainian_grammar(days: int, word: str) -> None:
    assert f"дійсний {days} {word}." in invitation_email("https://app.example", days)


def test_web_client_signs_in_with_srp_or_the_code_flow_back_to_the_web_client(
    web_client: Resource, distribution: Resource
) -> None:
    # Given / When the web client's app client
    props = web_client[1]["Properties"]
    web_url = f"https://${{{distribution[0]}.DomainName}}"

    # Then a browser can use it without a secret: SRP (the password never leaves the browser)
    # and refresh, or the authorization code flow (PKCE) returning to the web client only
    assert props["GenerateSecret"] is False
    assert sorted(props["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_SRP_AUTH"]
    assert props["AllowedOAuthFlows"] == ["code"]
    assert props["AllowedOAuthFlowsUserPoolClient"] is True
    assert sorted(props["AllowedOAuthScopes"]) == ["email", "openid", "profile"]
    assert [_text(url) for url in props["CallbackURLs"]] == [web_url]
    assert [_text(url) for url in props["LogoutURLs"]] == [web_url]
    # and a user stays signed in for 30 days by renewing hour-long tokens
    assert props["TokenValidityUnits"] == {"AccessToken": "minutes", "IdToken": "minutes", "RefreshToken": "minutes"}
    assert (props["AccessTokenValidity"], props["IdTokenValidity"]) == (60, 60)
    assert props["RefreshTokenValidity"] == 30 * 24 * 60
    assert props["EnableTokenRevocation"] is True
    assert props["PreventUserExistenceErrors"] == "ENABLED"
