"""Cognito user pool whose tokens the HTTP API's JWT authorizer accepts."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_cognito as cognito
from constructs import Construct


class IdentityConstruct(Construct):
    """Users sign in with their marketplace login; accounts are provisioned, never self-registered."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
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
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_lowercase=True,
                require_uppercase=True,
                require_digits=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
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
