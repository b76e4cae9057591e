"""Stream function: DynamoDB stream of the table → notifications of new messages."""
