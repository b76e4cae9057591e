"""The Message Center CDK app: one stack composing one construct per concern."""
