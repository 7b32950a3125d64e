"""The ledger: an append-only Postgres event store, idempotency keys and projections."""
