"""The single DynamoDB table, built from the one schema definition in the shared package."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from aws_cdk import Acknowledgment, CfnElement, RemovalPolicy, Stack, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct
from message_center.data import schema


def grant_item_access(function: lambda_.Function, table: dynamodb.ITable, actions: Sequence[str]) -> None:
    """Allow exactly ``actions`` on the table and its indexes, written out (no grant* helper)."""
    if function.role is None:  # pragma: no cover - every function here has its own role
        raise ValueError(f"{function.node.path} has no role to grant table access to")
    function.role.add_to_principal_policy(
        iam.PolicyStatement(actions=list(actions), resources=[table.table_arn, f"{table.table_arn}/index/*"])
    )
    table_logical_id = Stack.of(table).get_logical_id(cast(CfnElement, table.node.default_child))
    Validations.of(function.role).acknowledge(
        Acknowledgment(
            id=f"AwsSolutions-IAM5[Resource::<{table_logical_id}.Arn>/index/*]",
            reason="Queries go to the table's own GSIs (inbox, unread, awaiting reply); "
            "index ARNs are only expressible with the /index/* suffix.",
        )
    )


def _string_key(name: str) -> dynamodb.Attribute:
    return dynamodb.Attribute(name=name, type=dynamodb.AttributeType.STRING)


class StorageConstruct(Construct):
    """Message Center table: on-demand, PITR, change stream, TTL, never deleted with the stack."""

    def __init__(self, scope: Construct, construct_id: str) -> None:
        super().__init__(scope, construct_id)
        self.table = dynamodb.Table(
            self,
            "Table",
            partition_key=_string_key(schema.PARTITION_KEY),
            sort_key=_string_key(schema.SORT_KEY),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            stream=dynamodb.StreamViewType[schema.STREAM_VIEW_TYPE],
            time_to_live_attribute=schema.TTL_ATTRIBUTE,
            encryption=dynamodb.TableEncryption.AWS_MANAGED,
            # All conversations live here: neither a stack delete nor a console click may drop them.
            deletion_protection=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        for index in schema.GLOBAL_INDEXES:
            self.table.add_global_secondary_index(
                index_name=index.name,
                partition_key=_string_key(index.hash_key),
                sort_key=_string_key(index.range_key),
                projection_type=dynamodb.ProjectionType.ALL,
            )
