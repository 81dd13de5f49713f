"""The domain audit of customers' CNAME delegations, and the SPF analysis."""
