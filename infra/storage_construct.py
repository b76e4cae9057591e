"""The single DynamoDB table, built from the one schema definition in the shared package."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct
from message_center.data import schema


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
