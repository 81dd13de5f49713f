"""
The configuration file loader (oxdkim._config) and its values.
"""
