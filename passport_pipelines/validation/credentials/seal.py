"""Sealing a validated SSO Credentials drop: its passwords encrypted before anything touches disk.

Runs right after validation, on the DuckDB table of the drop: the ``password`` column is
replaced by ``password_ciphertext`` (+ ``key_id`` and a keyed ``secret_digest`` for change
detection). Only then are the tables written as Parquet for the next stages, and the archive
keeps ``credentials.encrypted.csv``, the drop as received with the password column encrypted:
the plaintext file itself is never archived.

Encryption is one C call per secret (about 1 µs each, see the report's measurement): there is
no way to encrypt a column of independent secrets without touching each one.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from passport_pipelines.sql.quoting import ident, lit
from passport_pipelines.validation.credentials.cipher import associated_data, current_key, digest_many, encrypt_many
from passport_pipelines.validation.oneroster.reader import LINE
from passport_pipelines.validation.oneroster.validation import ValidatedDrop

TABLE = "credentials"
ARCHIVE_FILE = "credentials.encrypted.csv"
SEALED_COLUMNS = ("user_id", "application", "login", "password_ciphertext", "key_id", "secret_digest", "url")
ARCHIVED_COLUMNS = ("user_id", "application", "login", "password_ciphertext", "key_id", "url")


def seal_credentials(drop: ValidatedDrop, *, district: str, school_year: str, archive: Path) -> int:
    """Encrypt the drop's passwords in place and archive the sealed copy; returns rows sealed."""
    key = current_key()
    if TABLE not in drop.present:
        return 0
    plain = drop.con.table(TABLE).to_arrow_table()
    users = plain.column("user_id").to_pylist()
    apps = plain.column("application").to_pylist()
    logins = plain.column("login").to_pylist()
    urls = plain.column("url").to_pylist()
    passwords = plain.column("password").to_pylist()
    bound = [associated_data(district, school_year, u, a) for u, a in zip(users, apps)]
    tokens = encrypt_many(key, passwords, bound)
    digests = digest_many(key, [associated_data(u, a, lg, pw, url or "")
                                for u, a, lg, pw, url in zip(users, apps, logins, passwords, urls)])
    del passwords
    sealed = plain.drop_columns(["password"])
    del plain
    n = sealed.num_rows
    sealed = (sealed.append_column("password_ciphertext", pa.array(tokens, pa.string()))
              .append_column("key_id", pa.array([key.key_id] * n, pa.string()))
              .append_column("secret_digest", pa.array(digests, pa.string())))
    drop.con.register("_sealed", sealed)
    drop.con.execute(f"CREATE OR REPLACE TABLE {TABLE} AS SELECT * FROM _sealed")
    drop.con.unregister("_sealed")
    del sealed
    extensions = [c for c in drop.con.table(TABLE).columns if c.startswith("metadata.")]
    cols = ", ".join(ident(c) for c in (*ARCHIVED_COLUMNS, *extensions))
    archive.mkdir(parents=True, exist_ok=True)
    target = lit(str(archive / ARCHIVE_FILE))
    drop.con.execute(f"COPY (SELECT {cols} FROM {TABLE} ORDER BY {LINE}) TO {target} (HEADER, DELIMITER ',')")
    return n
