"""DNS: one lookup logic and its resolvers (dnspython, zone files, in memory, caching)."""
