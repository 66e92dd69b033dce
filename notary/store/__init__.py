"""The durable store: organizations, API keys, evidence, batches and their history.

SQLAlchemy 2.x; SQLite in WAL mode with synchronous=FULL by default (a committed deposit
survives kill -9 and power loss), PostgreSQL through NOTARY_DATABASE_URL. The verifier
never imports this package.
"""
