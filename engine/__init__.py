"""One unit's work: load it from the ledger, plan it, write it exactly once, capture."""
