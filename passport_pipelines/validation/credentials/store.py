"""SSO credentials in the golden store: written with the version that brings them.

``CredentialsWrite`` runs inside ``GoldenStore.commit``'s transaction, after the roster
changes: the sealed rows of one source (Parquet from the extract stage) go into
``sso_credentials`` in set-based SQL. A full upload is the source's complete set (credentials
missing from it are removed, secret and all: a removed password is not kept for history); an
incremental one only adds and updates. A credential whose keyed digest is unchanged keeps its
stored ciphertext. If the commit rolls back, so do the credentials.

A credential naming an account no source of the district has (no current user with that sourced id,
counting this version's own changes) is **not stored**: it is counted and its user id reported
(``unknown_accounts``, ``unknown_account_ids`` in the ``sso_credentials`` metadata and the sync's
summary). It is stored by a later sync of the same file once a source brings the account.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import pyarrow.parquet as pq

from passport_pipelines.store.arrow_connection import ArrowConnection
from passport_pipelines.validation.credentials.schema import SCHEMA
from passport_pipelines.validation.credentials.seal import SEALED_COLUMNS, TABLE

if TYPE_CHECKING:  # the extract stage lands the credentials this module stores
    from passport_pipelines.validation.extract import SourceExtract

_T = "sso_credentials"
UNKNOWN_SAMPLE = 20  # user ids named in the report of credentials left out
_PK = "district = {d} AND school_year = {y} AND source = {s}"


@dataclass
class CredentialsWrite:
    """One source's sealed credentials, applied to the store within the version's transaction."""

    district: str
    school_year: str
    source: str
    folder: str
    upload_mode: str
    counts: dict[str, int] = field(default_factory=dict)

    def __call__(self, ac: ArrowConnection, version_id: int) -> None:
        rows = pq.read_table(Path(self.folder) / f"{TABLE}.parquet", columns=list(SEALED_COLUMNS))
        rows = rows.rename_columns(["user_sourced_id", *SEALED_COLUMNS[1:]])
        incoming = f"incoming_credentials_{version_id}_{self.source}"
        ac.ingest(incoming, rows, temporary=True)
        # Indexed like the store's key, so each set-based comparison below is a join, not a scan per row.
        ac.execute(f"CREATE UNIQUE INDEX {incoming}_key ON {incoming} (user_sourced_id, application)")
        d, y, s = ac.ph(1), ac.ph(2), ac.ph(3)
        unknown = self._leave_out_unknown_accounts(ac, incoming)
        key = (f"{_T}.district = {d} AND {_T}.school_year = {y} AND {_T}.source = {s} "
               f"AND {_T}.user_sourced_id = i.user_sourced_id AND {_T}.application = i.application")
        params = [self.district, self.school_year, self.source]
        added = ac.scalar(f"SELECT count(*) FROM {incoming} AS i WHERE NOT EXISTS "
                          f"(SELECT 1 FROM {_T} WHERE {key})", params)
        updated = ac.scalar(f"SELECT count(*) FROM {incoming} AS i WHERE EXISTS "
                            f"(SELECT 1 FROM {_T} WHERE {key} AND {_T}.secret_digest <> i.secret_digest)", params)
        deleted = 0
        if self.upload_mode == "full":
            gone = (f"FROM {_T} WHERE {_PK.format(d=d, y=y, s=s)} AND NOT EXISTS (SELECT 1 FROM {incoming} AS i "
                    f"WHERE i.user_sourced_id = {_T}.user_sourced_id AND i.application = {_T}.application)")
            deleted = ac.scalar(f"SELECT count(*) {gone}", params)
            ac.execute(f"DELETE {gone}", params)
        created, changed = ac.ph(4), ac.ph(5)
        content = ("login", "password_ciphertext", "key_id", "secret_digest", "url")
        # "WHERE true" lets SQLite tell the SELECT's end from the upsert clause.
        ac.execute(
            f"INSERT INTO {_T} (district, school_year, source, user_sourced_id, application, {', '.join(content)}, "
            f"created_version_id, updated_version_id) "
            f"SELECT {d}, {y}, {s}, i.user_sourced_id, i.application, {', '.join('i.' + c for c in content)}, {created}, {changed} "
            f"FROM {incoming} AS i WHERE true "
            f"ON CONFLICT (district, school_year, source, user_sourced_id, application) DO UPDATE SET "
            + ", ".join(f"{c} = excluded.{c}" for c in content) + ", updated_version_id = excluded.updated_version_id "
            f"WHERE {_T}.secret_digest <> excluded.secret_digest",
            [*params, version_id, version_id])
        ac.execute(f"DROP TABLE {incoming}")
        self.counts = {"added": int(added), "updated": int(updated), "deleted": int(deleted)}
        if unknown:
            self.counts.update(unknown_accounts=len(unknown), unknown_account_ids=unknown[:UNKNOWN_SAMPLE])

    def _leave_out_unknown_accounts(self, ac: ArrowConnection, incoming: str) -> list[str]:
        """Credentials naming a person no source of the district has (no current user with that
        sourced id, after this version's changes) are not stored: deleted from ``incoming``. Returns
        the user ids left out, sorted (ids only: the report names them, never a login or secret)."""
        absent = (f"NOT EXISTS (SELECT 1 FROM golden_users AS u WHERE u.district = {ac.ph(1)} "
                  f"AND u.school_year = {ac.ph(2)} AND u.sourced_id = {incoming}.user_sourced_id "
                  "AND u.deleted_version IS NULL)")
        params = [self.district, self.school_year]
        ids = ac.fetch(f"SELECT DISTINCT user_sourced_id FROM {incoming} WHERE {absent} ORDER BY user_sourced_id",
                       params).column("user_sourced_id").to_pylist()
        if ids:
            ac.execute(f"DELETE FROM {incoming} WHERE {absent}", params)
        return ids


def credential_writes(sources: Iterable[SourceExtract], *, district: str,
                      school_year: str) -> list[CredentialsWrite]:
    """A write for each SSO Credentials source of the sync."""
    return [CredentialsWrite(district, school_year, s.source, s.folder, s.upload_mode)
            for s in sources if s.schema == SCHEMA and s.ok]

