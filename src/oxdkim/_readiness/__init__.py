"""The readiness preview: will a domain's mail pass DMARC, and why."""
