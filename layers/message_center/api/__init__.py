"""The public HTTP contract: route table and wire models (camelCase JSON)."""
