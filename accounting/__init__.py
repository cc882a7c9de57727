"""The accounting layer: contracts, ledger, books, invariants, clearing and network measures; imports nothing from agents or the economy."""
