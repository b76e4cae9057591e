"""Inbound mail: an SES receipt rule for the relay domain -> raw MIME in S3 -> functions/inbound_mail.

SES receives mail for the relay domain, scans it for spam and viruses (the verdicts travel in the
event), refuses connections without TLS, stores the raw message under ``inbound/`` of the inbound
bucket (up to SES's 40 MB) and then invokes the function asynchronously with the SES event, which
carries headers and verdicts but not the body: the function reads the object. An event the
function fails on is retried by Lambda, then described in an SQS dead-letter queue with an alarm.

The rule set and rule are written as CloudFormation resources with explicit names so the bucket
policy and the Lambda permission can name the one rule allowed to use them (``aws:SourceArn``);
the ``aws_ses_actions`` helpers only check the account.

Deploy-time steps, outside CloudFormation: an account has one *active* receipt rule set, and
CloudFormation cannot activate one, so after the first deploy run
``aws ses set-active-receipt-rule-set --rule-set-name <InboundMailRuleSetName output>``; SES
receives for the relay domain only once the domain is verified (its DKIM records, see
mail_construct) and its MX record points at ``inbound-smtp.<region>.amazonaws.com`` in a region
where SES receives mail.
"""

from __future__ import annotations

from typing import cast

from aws_cdk import Acknowledgment, CfnElement, Stack, Validations
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_destinations as destinations
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sqs as sqs
from constructs import Construct
from message_center.data import bucket_layout
from message_center.deployment import Env

from infra import constants
from infra.building_blocks import alarm_on_errors, alarm_when_messages, dead_letter_queue, secure_bucket
from infra.mail_construct import MailConstruct
from infra.python_function import build_python_function
from infra.regions import require_ses_receiving_region
from infra.storage_construct import grant_item_access

SES_PRINCIPAL = "ses.amazonaws.com"
# What the function does with the main table: find the thread a reply address or alias names, the
# sender's user, store the message, its attachments and its copies (item by item, conditionally),
# remember the SES message id it handled. Same actions as the stream function. No Scan.
INBOUND_TABLE_ACTIONS = (
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
)
# Raw messages are read, never written, listed or deleted (the lifecycle rule expires them).
INBOUND_OBJECT_ACTIONS = ("s3:GetObject",)
# Mail attachments are stored the way the API stores uploads: written under uploads/, copied by
# version (the checked one) to attachments/; a refused delivery removes the versions it wrote
# under both prefixes (DeleteObjectVersion, never DeleteObject).
ATTACHMENT_OBJECT_ACTIONS = ("s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObjectVersion")


class InboundMailConstruct(Construct):
    """Inbound bucket, SES receipt rule set and rule, the inbound-mail function and its DLQ."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        table: dynamodb.ITable,
        attachments_bucket: s3.IBucket,
        access_log_bucket: s3.IBucket,
        layer: lambda_.ILayerVersion,
        mail: MailConstruct,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        # Receipt rules exist only where SES receives mail: refuse any other region at synth.
        require_ses_receiving_region(stack.region)
        self.rule_set_name = f"{stack.stack_name}-inbound-mail"
        self.rule_name = f"{stack.stack_name}-relay-domain"
        self.bucket = self._build_bucket(access_log_bucket)
        self.dead_letter_queue = self._build_dead_letter_queue()
        self.function = build_python_function(
            self,
            "Function",
            package=constants.INBOUND_MAIL_PACKAGE,
            description="Message Center inbound mail (SES receipt -> message in its thread)",
            layer=layer,
            memory_size=constants.INBOUND_MAIL_MEMORY_MB,
            timeout=constants.INBOUND_MAIL_TIMEOUT,
            environment={
                Env.TABLE_NAME: table.table_name,
                Env.ATTACHMENTS_BUCKET: attachments_bucket.bucket_name,
                Env.INBOUND_MAIL_BUCKET: self.bucket.bucket_name,
                Env.INBOUND_MAIL_PREFIX: constants.INBOUND_MAIL.prefix,
            },
        )
        # Failed asynchronous invocations: retried by Lambda, then described in the queue.
        self.function.configure_async_invoke(
            retry_attempts=constants.INBOUND_MAIL.retry_attempts,
            max_event_age=constants.INBOUND_MAIL_MAX_EVENT_AGE,
            on_failure=destinations.SqsDestination(self.dead_letter_queue),
        )
        self._grant_function_access(table, attachments_bucket)
        mail.grant_reply_addressing(self.function)
        self.rule_set, self.rule = self._build_receipt_rule(mail.relay_domain)
        self.alarms = self._build_alarms()

    @property
    def rule_arn(self) -> str:
        """``arn:<partition>:ses:<region>:<account>:receipt-rule-set/<set>:receipt-rule/<rule>``."""
        return Stack.of(self).format_arn(
            service="ses",
            resource="receipt-rule-set",
            resource_name=f"{self.rule_set_name}:receipt-rule/{self.rule_name}",
        )

    def _build_bucket(self, access_log_bucket: s3.IBucket) -> s3.Bucket:
        # SSE-S3: SES's S3 action encrypts with it without a key policy for SES, and only the
        # inbound function's role reads these objects. Raw messages are written once under SES's
        # message id and only expire. Retained: emptied by the lifecycle rule within 30 days, and
        # a stack deletion must not fail on (or silently drop) mail still under investigation.
        return secure_bucket(
            self,
            "Bucket",
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="expire-raw-inbound-mail",
                    prefix=constants.INBOUND_MAIL.prefix,
                    expiration=constants.INBOUND_MAIL_RETENTION,
                )
            ],
            server_access_logs_bucket=access_log_bucket,
            logs_prefix="inbound-mail-bucket/",
        )

    def _build_dead_letter_queue(self) -> sqs.Queue:
        return dead_letter_queue(
            self,
            "DeadLetterQueue",
            retention_period=constants.INBOUND_MAIL_DLQ_RETENTION,
            consumer_reason="inbound-mail function's asynchronous invocations; nothing consumes it.",
        )

    def _grant_function_access(self, table: dynamodb.ITable, attachments_bucket: s3.IBucket) -> None:
        grant_item_access(self.function, table, INBOUND_TABLE_ACTIONS)
        raw_mail = self.bucket.arn_for_objects(f"{constants.INBOUND_MAIL.prefix}*")
        self.function.add_to_role_policy(
            iam.PolicyStatement(actions=list(INBOUND_OBJECT_ACTIONS), resources=[raw_mail])
        )
        attachment_prefixes = (bucket_layout.UPLOAD_PREFIX, bucket_layout.STORED_PREFIX)
        self.function.add_to_role_policy(
            iam.PolicyStatement(
                actions=list(ATTACHMENT_OBJECT_ACTIONS),
                resources=[attachments_bucket.arn_for_objects(f"{prefix}*") for prefix in attachment_prefixes],
            )
        )
        if self.function.role is None:  # pragma: no cover - every function here has its own role
            raise ValueError(f"{self.function.node.path} has no role")
        inbound_id = _logical_id(self.bucket)
        attachments_id = _logical_id(attachments_bucket)
        Validations.of(self.function.role).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::<{inbound_id}.Arn>/{constants.INBOUND_MAIL.prefix}*]",
                reason="SES names each raw message by its message id at receipt time; the wildcard "
                "covers the inbound/ prefix only, read-only.",
            ),
            *(
                Acknowledgment(
                    id=f"AwsSolutions-IAM5[Resource::<{attachments_id}.Arn>/{prefix}*]",
                    reason=f"Attachment keys under {prefix} are random ids created at run time; the "
                    "wildcard covers that one prefix only, never the whole bucket.",
                )
                for prefix in attachment_prefixes
            ),
        )

    def _build_receipt_rule(self, relay_domain: str) -> tuple[ses.CfnReceiptRuleSet, ses.CfnReceiptRule]:
        stack = Stack.of(self)
        # Only this account's rule may write raw mail, and only under inbound/.
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowSesReceiptRulePutObject",
                principals=[iam.ServicePrincipal(SES_PRINCIPAL)],
                actions=["s3:PutObject"],
                resources=[self.bucket.arn_for_objects(f"{constants.INBOUND_MAIL.prefix}*")],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": self.rule_arn},
                },
            )
        )
        permission = lambda_.CfnPermission(
            self,
            "AllowSesInvoke",
            action="lambda:InvokeFunction",
            function_name=self.function.function_arn,
            principal=SES_PRINCIPAL,
            source_account=stack.account,
            source_arn=self.rule_arn,
        )
        # Inactive until activated (module docstring): CloudFormation cannot activate a rule set.
        rule_set = ses.CfnReceiptRuleSet(self, "ReceiptRuleSet", rule_set_name=self.rule_set_name)
        rule = ses.CfnReceiptRule(
            self,
            "ReceiptRule",
            rule_set_name=self.rule_set_name,
            rule=ses.CfnReceiptRule.RuleProperty(
                name=self.rule_name,
                enabled=True,
                # Every address of the relay domain: signed reply addresses and masked aliases.
                recipients=[relay_domain],
                scan_enabled=True,
                tls_policy="Require",
                actions=[
                    # Order matters: the object exists before the function is told about it.
                    ses.CfnReceiptRule.ActionProperty(
                        s3_action=ses.CfnReceiptRule.S3ActionProperty(
                            bucket_name=self.bucket.bucket_name,
                            object_key_prefix=constants.INBOUND_MAIL.prefix,
                        )
                    ),
                    ses.CfnReceiptRule.ActionProperty(
                        lambda_action=ses.CfnReceiptRule.LambdaActionProperty(
                            function_arn=self.function.function_arn,
                            invocation_type="Event",
                        )
                    ),
                ],
            ),
        )
        # SES checks it may write and invoke when the rule is created.
        rule.node.add_dependency(rule_set, permission)
        if self.bucket.policy is not None:
            rule.node.add_dependency(self.bucket.policy)
        return rule_set, rule

    def _build_alarms(self) -> list[cloudwatch.Alarm]:
        dead_letters = alarm_when_messages(
            self,
            "DeadLettersAlarm",
            queue=self.dead_letter_queue,
            description="Inbound e-mails were not delivered: the function failed their SES "
            "events after Lambda's retries and they are described in the dead-letter queue.",
        )
        errors = alarm_on_errors(
            self,
            "FunctionErrorsAlarm",
            function=self.function,
            description="The inbound-mail function failed invocations (crash or timeout); Lambda "
            "retries them before dead-lettering.",
        )
        return [dead_letters, errors]


def _logical_id(bucket: s3.IBucket) -> str:
    return Stack.of(bucket).get_logical_id(cast(CfnElement, bucket.node.default_child))
