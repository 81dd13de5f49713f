"""DMARC: records, organizational domains, alignment and evaluation."""
