"""Reports: reconciliation, HTML and inventory, read from the ledger's projections."""
