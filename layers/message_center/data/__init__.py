"""Data access: the single-table definition and the repositories that hide pynamodb."""
