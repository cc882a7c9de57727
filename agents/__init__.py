"""creditloop's agents: one module per type of firm (docs/ODD.md, "Entities")."""
