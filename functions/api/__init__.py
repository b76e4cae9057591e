"""HTTP API function: API Gateway HTTP API (payload v2) → Message Center services."""
