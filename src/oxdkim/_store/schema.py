"""
The database schema and its versioned migrations.

``migrate`` is idempotent and safe to run from several hosts at once: it takes an
advisory lock, applies only the migrations the database has not seen, and records the
version in the same transaction. A database newer than this oxdkim is refused, not
downgraded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..exceptions import KeyStoreError

if TYPE_CHECKING:
    import psycopg

LOCK_NAMESPACE = 0x6F78646B  # "oxdk": the first key of every oxdkim advisory lock
SCHEMA_LOCK = 0
CHANNEL = "oxdkim"
"""The NOTIFY channel on which every change is announced, in the writer's transaction."""

MIGRATIONS: tuple[str, ...] = (
    # 1: rings, their sealed keys, generic keys, and the domains of each brand's tenants
    """
    CREATE TABLE oxdkim_ring (
        brand text PRIMARY KEY,
        version bigint NOT NULL DEFAULT 1,
        state jsonb NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE oxdkim_ring_key (
        brand text NOT NULL REFERENCES oxdkim_ring ON DELETE CASCADE,
        fingerprint text NOT NULL,
        sealed bytea NOT NULL,
        PRIMARY KEY (brand, fingerprint)
    );
    CREATE TABLE oxdkim_generic_key (
        brand text PRIMARY KEY,
        version bigint NOT NULL DEFAULT 1,
        fingerprint text NOT NULL,
        sealed bytea NOT NULL,
        updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE oxdkim_domain (
        brand text NOT NULL,
        domain text NOT NULL,
        tenant text,
        mode text,
        version bigint NOT NULL DEFAULT 1,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (brand, domain)
    );
    CREATE INDEX oxdkim_domain_by_tenant ON oxdkim_domain (brand, tenant);
    """,
)
VERSION = len(MIGRATIONS)


def migrate(conn: psycopg.Connection[tuple[object, ...]]) -> int:
    """
    Bring the schema to :data:`VERSION` in one transaction; return the version.

    Raises:
        KeyStoreError: The database's schema is newer than this oxdkim knows.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, SCHEMA_LOCK))
        conn.execute(
            "CREATE TABLE IF NOT EXISTS oxdkim_meta (name text PRIMARY KEY, value text NOT NULL)"
        )
        row = conn.execute("SELECT value FROM oxdkim_meta WHERE name = 'schema'").fetchone()
        current = int(str(row[0])) if row else 0
        if current > VERSION:
            raise KeyStoreError(
                f"the database has oxdkim schema {current}, newer than {VERSION}: upgrade oxdkim"
            )
        for sql in MIGRATIONS[current:]:
            conn.execute(sql.encode())
        conn.execute(
            "INSERT INTO oxdkim_meta VALUES ('schema', %s) "
            "ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (str(VERSION),),
        )
    return VERSION
