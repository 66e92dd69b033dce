"""Taking deposits: request validation, the durable group-commit writer, rate limits."""
