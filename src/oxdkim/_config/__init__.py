"""Configuration: the TOML file, its validated values, and the policies built from them."""
