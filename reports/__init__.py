"""Reports: status, reconciliation, verification and inventory, rendered from projections."""
