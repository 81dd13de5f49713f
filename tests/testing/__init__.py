"""
The pytest plugin and oxdkim.testing, used as a project's own tests use them (a public
face, not a private layer, so the folder is named after it).
"""
