"""DynamoDB error codes the repositories act on (matched by code, never by message text)."""

CONDITION_FAILED = "ConditionalCheckFailedException"
TRANSACTION_CONFLICT = "TransactionConflict"
