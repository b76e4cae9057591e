"""Cognito user pool whose tokens the HTTP API's JWT authorizer accepts, and how people get in.

Accounts are created by the directory loader (``message-center directory load``), never by
self sign-up. A new account gets Cognito's invitation e-mail with the login, a temporary
password and the web client's address; at the first sign-in the web client asks for a new
password (Cognito's NEW_PASSWORD_REQUIRED challenge). "Forgot password" sends a code to the
account's (verified) e-mail address. The web client signs in with SRP from the browser, so the
password never reaches our API; its app client also allows the authorization code flow with PKCE
back to the web client, for Cognito's managed login once the pool has a domain.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Stack, Validations
from aws_cdk import aws_cognito as cognito
from constructs import Construct

TEMPORARY_PASSWORD_VALIDITY = Duration.days(3)
INVITATION_SUBJECT = "Centrum wiadomości / Message Center / Центр повідомлень"
VERIFICATION_SUBJECT = "Kod / Code / Код: Centrum wiadomości / Message Center"


def invitation_email(web_url: str, valid_days: int) -> str:
    """The invitation (Cognito replaces ``{username}`` and ``{####}``, each given once), in Polish,
    English and Ukrainian: the marketplace's users read one of these, and the recipient's preferred
    language is not Cognito's to know. Cognito sends it as HTML."""
    link = f'<a href="{web_url}">{web_url}</a>'
    return (
        "<p>Login / Login / Логін: <b>{username}</b><br>"
        "Hasło tymczasowe / Temporary password / Тимчасовий пароль: <b>{####}</b></p>"
        f"<p>Masz konto w Centrum wiadomości. Zaloguj się na {link} powyższym loginem i hasłem "
        "tymczasowym; przy pierwszym logowaniu ustawisz własne hasło. Hasło tymczasowe jest ważne "
        f"{valid_days} dni.</p>"
        f"<p>You have an account in the Message Center. Sign in at {link} with the login and "
        "temporary password above; at the first sign-in you choose your own password. The temporary "
        f"password is valid for {valid_days} days.</p>"
        f"<p>У вас є обліковий запис у Центрі повідомлень. Увійдіть на {link} з логіном і тимчасовим "
        "паролем, наведеними вище; під час першого входу ви встановите власний пароль. Тимчасовий "
        f"пароль дійсний {valid_days} {_ukrainian_days(valid_days)}.</p>"
    )


def _ukrainian_days(count: int) -> str:
    if count % 10 == 1 and count % 100 != 11:
        return "день"
    if count % 10 in (2, 3, 4) and count % 100 not in (12, 13, 14):
        return "дні"
    return "днів"


VERIFICATION_EMAIL = (
    "<p>Kod / Code / Код: <b>{####}</b></p>"
    "<p>Wpisz ten kod w Centrum wiadomości, aby ustawić nowe hasło lub potwierdzić adres e-mail. "
    "Jeśli to nie Ty, zignoruj tę wiadomość.</p>"
    "<p>Enter this code in the Message Center to set a new password or confirm your e-mail address. "
    "If this was not you, ignore this message.</p>"
    "<p>Введіть цей код у Центрі повідомлень, щоб встановити новий пароль або підтвердити адресу "
    "електронної пошти. Якщо це були не ви, проігноруйте цей лист.</p>"
)


class IdentityConstruct(Construct):
    """Users sign in with their marketplace login; accounts are provisioned, never self-registered.

    ``web_url``: the web client, which the invitation names and the web app client returns to.
    """

    def __init__(self, scope: Construct, construct_id: str, *, web_url: str) -> None:
        super().__init__(scope, construct_id)
        self.user_pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,
            # The username is the marketplace login that threads show and filter by.
            sign_in_aliases=cognito.SignInAliases(username=True),
            sign_in_case_sensitive=False,
            standard_attributes=cognito.StandardAttributes(
                email=cognito.StandardAttribute(required=True, mutable=True)
            ),
            auto_verify=cognito.AutoVerifiedAttrs(email=True),
            # "Forgot password" sends a code to the verified e-mail address (the loader verifies it).
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            user_invitation=cognito.UserInvitationConfig(
                email_subject=INVITATION_SUBJECT,
                email_body=invitation_email(web_url, int(TEMPORARY_PASSWORD_VALIDITY.to_days())),
            ),
            user_verification=cognito.UserVerificationConfig(
                email_subject=VERIFICATION_SUBJECT,
                email_body=VERIFICATION_EMAIL,
                email_style=cognito.VerificationEmailStyle.CODE,
            ),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=TEMPORARY_PASSWORD_VALIDITY,
            ),
            mfa=cognito.Mfa.OPTIONAL,
            mfa_second_factor=cognito.MfaSecondFactor(otp=True, sms=False),
            feature_plan=cognito.FeaturePlan.ESSENTIALS,
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        self.client = self.user_pool.add_client(
            "AppClient",
            # Public web/mobile clients cannot keep a secret; SRP never sends the password.
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True),
            # No hosted UI: without this CDK enables OAuth flows with an example.com callback.
            disable_o_auth=True,
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )
        self.web_client = self.user_pool.add_client(
            "WebClient",
            # A browser app keeps no secret: SRP from the browser (amazon-cognito-identity-js), or
            # the authorization code flow (a client without a secret must send a PKCE challenge).
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE],
                callback_urls=[web_url],
                logout_urls=[web_url],
            ),
            supported_identity_providers=[cognito.UserPoolClientIdentityProvider.COGNITO],
            prevent_user_existence_errors=True,
            enable_token_revocation=True,
            # The web client renews the hour-long access token silently with the refresh token, so
            # a user stays signed in across reloads for 30 days.
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
            # Time to choose a new password at the first sign-in (the challenge's session).
            auth_session_validity=Duration.minutes(15),
        )
        Validations.of(self.user_pool).acknowledge(
            Acknowledgment(
                id="AwsSolutions-COG2",
                reason="MFA is optional (TOTP) so users can opt in; making it mandatory for every "
                "marketplace user is a product decision outside this service.",
            ),
            Acknowledgment(
                id="AwsSolutions-COG8",
                reason="Threat protection (advanced security) needs the Cognito Plus plan; Essentials "
                "is a deliberate cost choice for now.",
            ),
        )

    @property
    def issuer_url(self) -> str:
        """The ``iss`` of the pool's tokens (what the API's JWT authorizer checks by default)."""
        stack = Stack.of(self)
        return f"https://cognito-idp.{stack.region}.{stack.url_suffix}/{self.user_pool.user_pool_id}"

    @property
    def client_ids(self) -> tuple[str, ...]:
        """Every app client of the pool: the audiences the API accepts by default."""
        return (self.client.user_pool_client_id, self.web_client.user_pool_client_id)
