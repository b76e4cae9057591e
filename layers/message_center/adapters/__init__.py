"""Adapters to AWS services and external HTTP services."""
