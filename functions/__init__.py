"""Lambda functions, one package per trigger."""
