"""The economy above the agents: markets, credit, marks, leases, shocks, settlement and defaults, contract lifecycle, initialisation and the Mesa model."""
