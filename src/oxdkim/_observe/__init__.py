"""Adapters that turn oxdkim's events into metrics (above the floor, beside nothing else)."""
