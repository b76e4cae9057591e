"""Pure domain: models and rules. Never imports boto3, pynamodb or anything HTTP."""
