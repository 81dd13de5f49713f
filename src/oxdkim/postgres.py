"""
The PostgreSQL store: a brand's key ring, generic key, tenants and domains in one
database that every signing host reads, with rotation safe across hosts.

Needs the ``postgresql`` extra (``pip install 'oxdkim[postgresql]'``). Most deployments
never touch these classes: a ``[store]`` table in the configuration file makes
:func:`~oxdkim.signer_from_config` and the CLI use the database (see the fleet guide).

* :class:`PostgresStore` is the database: schema, lookups, writes, the change listener.
* :class:`PostgresKeyStore` is one brand's ring in it (a :class:`~oxdkim.typing.KeyStore`).
* :class:`KeyEncryptionKey` seals the private keys at rest.
* :class:`BrandData` and :class:`DomainEntry` are the values read and written.
"""

from ._base.exports import claim as _claim
from ._store.postgres import BrandData, DomainEntry, PostgresStore
from ._store.ring import PostgresKeyStore
from ._store.sealing import KeyEncryptionKey

__all__ = [
    "BrandData",
    "DomainEntry",
    "KeyEncryptionKey",
    "PostgresKeyStore",
    "PostgresStore",
]

_claim(__name__, __all__, globals())
