"""The PostgreSQL store: a brand's key ring, generic key, tenants and domains, shared by a fleet."""
