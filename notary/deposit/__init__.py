"""Taking deposits: request validation, file deposits (their metadata rule and the spool
their bytes wait in), the durable group-commit writer, rate limits."""
