"""creditloop's model: contracts, the ledger, markets, settlement and clearing, and the Mesa model."""
