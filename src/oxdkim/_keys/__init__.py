"""The key ring: slot states, rollover steps, the file key store, records to publish."""
