"""The Message Center stack: composes one construct per concern and exports what clients need."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from aws_cdk import CfnOutput, Fn, Stack
from constructs import Construct
from message_center.deployment import WEB_CLIENT_ROUTES

from infra.api_construct import ApiConstruct, TokenIssuer, api_cors_origins_from_context, token_issuer_from_context
from infra.attachments_construct import AttachmentsConstruct, cors_origins_from_context
from infra.building_blocks import origins_from_context
from infra.constants import (
    API_CORS_ORIGINS_CONTEXT_KEY,
    ATTACHMENTS_CORS_ORIGINS_CONTEXT_KEY,
    DEEPL_SECRET_ARN_CONTEXT_KEY,
    DEFAULT_AVATAR_URL,
    DEFAULT_AVATAR_URL_CONTEXT_KEY,
    GOOGLE_TRANSLATE_SECRET_ARN_CONTEXT_KEY,
    JWT_AUDIENCE_CONTEXT_KEY,
    JWT_ISSUER_CONTEXT_KEY,
    NOTIFICATION_SETTINGS_URL_CONTEXT_KEY,
    PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY,
    PUSH_FCM_APPLICATION_ARN_CONTEXT_KEY,
    RELAY_DOMAIN_CONTEXT_KEY,
    TRANSLATION_PROVIDERS_CONTEXT_KEY,
    WEB_IMAGE_ORIGINS_CONTEXT_KEY,
)
from infra.identity_construct import IdentityConstruct
from infra.inbound_mail_construct import InboundMailConstruct
from infra.mail_construct import MailConstruct, relay_domain_from_context
from infra.notifications_construct import NotificationsConstruct, push_applications_from_context
from infra.operations_construct import ALARM_EMAIL_CONTEXT_KEY, OperationsConstruct, alarm_email_from_context
from infra.python_function import build_shared_layer
from infra.realtime_construct import RealtimeConstruct
from infra.storage_construct import StorageConstruct
from infra.translation_construct import TranslationConstruct, translation_settings_from_context
from infra.web_construct import WebConstruct, site_source_dir


class MessageCenterStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        storage = StorageConstruct(self, "Storage")
        attachments = AttachmentsConstruct(
            self,
            "Attachments",
            cors_origins=cors_origins_from_context(self.node.try_get_context(ATTACHMENTS_CORS_ORIGINS_CONTEXT_KEY)),
        )
        default_avatar_url = self.node.try_get_context(DEFAULT_AVATAR_URL_CONTEXT_KEY) or DEFAULT_AVATAR_URL
        # The distribution comes first: the invitation e-mail, the web app client and the e-mail
        # copies name its URL; the API and config.json are added to it once they exist.
        web = WebConstruct(
            self,
            "Web",
            site_dir=site_source_dir(),
            attachments_bucket=attachments.bucket,
            access_log_bucket=attachments.access_log_bucket,
            image_origins=[
                _origin(default_avatar_url),
                *origins_from_context(
                    WEB_IMAGE_ORIGINS_CONTEXT_KEY, self.node.try_get_context(WEB_IMAGE_ORIGINS_CONTEXT_KEY)
                ),
            ],
        )
        identity = IdentityConstruct(self, "Identity", web_url=web.url)
        # Built once: every function runs the same shared package.
        layer = build_shared_layer(self, "SharedLayer")
        token_issuer = token_issuer_from_context(
            {key: self.node.try_get_context(key) for key in (JWT_ISSUER_CONTEXT_KEY, JWT_AUDIENCE_CONTEXT_KEY)},
            default=TokenIssuer(identity.issuer_url, identity.client_ids),
        )
        api = ApiConstruct(
            self,
            "Api",
            table=storage.table,
            token_issuer=token_issuer,
            default_avatar_url=default_avatar_url,
            layer=layer,
            cors_origins=api_cors_origins_from_context(self.node.try_get_context(API_CORS_ORIGINS_CONTEXT_KEY)),
        )
        web.route_api(api.http_api)
        # Real time (issue #12): the WebSocket channel, its connections table and the live events.
        realtime = RealtimeConstruct(
            self,
            "Realtime",
            table=storage.table,
            layer=layer,
            token_issuer=token_issuer.issuer,
            token_audiences=list(token_issuer.audience),
            public_web_url=web.url,
            default_avatar_url=default_avatar_url,
        )
        realtime.grant_feed_reading(api.function)
        # What the web client signs in with and where it connects live (read from /config.json, as locally).
        web.publish(
            {
                "userPoolId": identity.user_pool.user_pool_id,
                "clientId": identity.web_client.user_pool_client_id,
                "region": self.region,
                "websocketUrl": realtime.url,
            }
        )
        attachments.grant_api_access(api.function)
        mail = MailConstruct(
            self,
            "Mail",
            relay_domain=relay_domain_from_context(self.node.try_get_context(RELAY_DOMAIN_CONTEXT_KEY)),
        )
        notifications = NotificationsConstruct(
            self,
            "Notifications",
            table=storage.table,
            layer=layer,
            mail=mail,
            push=push_applications_from_context(
                {
                    key: self.node.try_get_context(key)
                    for key in (PUSH_APNS_APPLICATION_ARN_CONTEXT_KEY, PUSH_FCM_APPLICATION_ARN_CONTEXT_KEY)
                }
            ),
            # E-mails link to the web client's pages (deployment.WEB_CLIENT_ROUTES).
            public_web_url=web.url,
            notification_settings_url=self.node.try_get_context(NOTIFICATION_SETTINGS_URL_CONTEXT_KEY)
            or f"{web.url}{WEB_CLIENT_ROUTES.settings}",
        )
        notifications.grant_device_registration(api.function)
        # On-demand translation (API) and auto-translation for foreign recipients (stream).
        translation = TranslationConstruct(
            self,
            "Translation",
            settings=translation_settings_from_context(
                {
                    key: self.node.try_get_context(key)
                    for key in (
                        TRANSLATION_PROVIDERS_CONTEXT_KEY,
                        GOOGLE_TRANSLATE_SECRET_ARN_CONTEXT_KEY,
                        DEEPL_SECRET_ARN_CONTEXT_KEY,
                    )
                }
            ),
        )
        translation.grant_translation(api.function)
        translation.grant_translation(notifications.function)
        translation.grant_translation(realtime.events_function)
        inbound_mail = InboundMailConstruct(
            self,
            "InboundMail",
            table=storage.table,
            attachments_bucket=attachments.bucket,
            access_log_bucket=attachments.access_log_bucket,
            layer=layer,
            mail=mail,
        )
        # Every alarm of the stack notifies its topic; the dashboard shows the whole service.
        OperationsConstruct(
            self,
            "Operations",
            alarm_email=alarm_email_from_context(self.node.try_get_context(ALARM_EMAIL_CONTEXT_KEY)),
            http_api=api.http_api,
            functions={"api": api.function, "stream": notifications.function, "inbound mail": inbound_mail.function},
            dead_letter_queues={
                "notifications": notifications.dead_letter_queue,
                "inbound mail": inbound_mail.dead_letter_queue,
            },
            stream_function=notifications.function,
        )
        CfnOutput(self, "WebUrl", value=web.url, description="The web client (and the API under /messaging/)")
        CfnOutput(self, "ApiUrl", value=api.url, description="Base URL of the HTTP API")
        CfnOutput(self, "UserPoolId", value=identity.user_pool.user_pool_id)
        CfnOutput(self, "UserPoolClientId", value=identity.client.user_pool_client_id)
        CfnOutput(
            self,
            "WebClientId",
            value=identity.web_client.user_pool_client_id,
            description="App client of the web client (SRP, or authorization code with PKCE)",
        )
        CfnOutput(self, "TableName", value=storage.table.table_name)
        CfnOutput(
            self,
            "WebSocketUrl",
            value=realtime.url,
            description="The live channel: connect with subprotocols [message-center.v1, <access token>]",
        )
        CfnOutput(
            self,
            "RealtimeDeadLetterQueueUrl",
            value=realtime.dead_letter_queue.queue_url,
            description="Stream records the live events function gave up on (events not delivered)",
        )
        CfnOutput(
            self,
            "AttachmentsBucketName",
            value=attachments.bucket.bucket_name,
            description="S3 bucket of message attachments (uploads/ and attachments/ prefixes)",
        )
        for number, record in enumerate(mail.identity.dkim_records, start=1):
            CfnOutput(
                self,
                f"RelayDomainDkim{number}",
                value=Fn.join(" ", [record.name, "CNAME", record.value]),
                description=f"Publish in {mail.relay_domain}'s DNS zone so SES verifies the domain "
                "and signs with Easy DKIM",
            )
        CfnOutput(
            self,
            "NotificationsDeadLetterQueueUrl",
            value=notifications.dead_letter_queue.queue_url,
            description="Stream records that exhausted their retries (new messages not notified)",
        )
        # Deploy-time steps (see infra/inbound_mail_construct.py): CloudFormation creates the rule
        # set but cannot make it the account's active one, and SES receives for the relay domain
        # only once the domain is verified and its MX record points at SES's inbound endpoint.
        CfnOutput(
            self,
            "InboundMailRuleSetName",
            value=inbound_mail.rule_set.ref,
            description="SES receipt rule set of the relay domain: activate it after deploy "
            "(aws ses set-active-receipt-rule-set --rule-set-name <name>), verify the domain and "
            "point its MX record at inbound-smtp.<region>.amazonaws.com",
        )
        CfnOutput(
            self,
            "InboundMailDeadLetterQueueUrl",
            value=inbound_mail.dead_letter_queue.queue_url,
            description="SES events of inbound mail the function failed on after retries (mail not delivered)",
        )


def _origin(url: str) -> str:
    """``https://host/path`` -> ``https://host`` (a Content-Security-Policy source)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
