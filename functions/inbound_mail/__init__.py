"""Inbound-mail function: SES receipt rule (S3 action, then this) → a MAIL message or a refusal."""
