"""The `mlops` subcommands, one module per concern."""
