"""Stage 3 for a source whose identity settings changed: the change set that re-keys its records
(``changes/rekey.py``) in the same DuckDB connection as its ordinary changes.

Before the change detection, each entity's records on record are carried to their new keys; the keys
that change leave what the sync compares against, and, where the source does not resend every
record (an incremental or partial drop), the carried records join the incoming rows the file does not
have. After it, the new keys take their old golden ids, the old keys are deleted, and a map of old
key to new key is written beside the change set for the commit to move duplicate decisions with.
"""

from __future__ import annotations

import duckdb

from passport_pipelines.changes.identity import IdentityChange
from passport_pipelines.changes.rekey import IdentityChangeError, carry_records, register_school_keys, school_keys
from passport_pipelines.model import entities
from passport_pipelines.model.change_set import carry_golden_ids
from passport_pipelines.sql.quoting import ident
from passport_pipelines.store.golden_store import GoldenStore

# A carried record whose key changed: its old key goes.
_MOVED = "(c.sourced_id IS NULL OR c.sourced_id <> c.old_sourced_id OR c.source <> c.old_source)"


class RekeyedSource:
    def __init__(self, con: duckdb.DuckDBPyConnection, change: IdentityChange, store: GoldenStore, *,
                 district: str, school_year: str, district_schools: list):
        self.con, self.change, self.district = con, change, district
        old = change.previous.name
        schools = store.current_records(district, school_year, "orgs", ["sourced_id", "identifier", "type"],
                                        source=old).to_pylist()
        self.school_keys = school_keys(change, [s for s in schools if s["type"] == "school"], district_schools)
        register_school_keys(con, self.school_keys)
        for entity in entities.ENTITIES:
            con.register(f"on_record__{entity}", store.current_records(district, school_year, entity, source=old))
            carry_records(con, entity, f"on_record__{entity}", change)
            con.unregister(f"on_record__{entity}")

    def stored(self, entity: str, stored: str) -> str:
        """What the sync compares ``entity`` against: the keys on record less those that change."""
        view = f"kept__{entity}"
        self.con.execute(f"""CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM {stored} AS s
            WHERE NOT EXISTS (SELECT 1 FROM carried__{entity} AS c
                              WHERE c.old_source = s.source AND c.old_sourced_id = s.sourced_id AND {_MOVED})""")
        return view

    def incoming(self, entity: str, incoming: str, *, complete: bool) -> str:
        """The incoming rows, and, unless they are the complete set, the carried records they lack."""
        if complete:
            return incoming
        self._check_placed(entity)
        cols = ", ".join(ident(c) for c in entities.columns(entity))
        view = f"incoming_carried__{entity}"
        self.con.execute(f"""CREATE OR REPLACE TEMP VIEW {view} AS
            SELECT {cols} FROM {incoming}
            UNION ALL
            SELECT {cols} FROM carried__{entity} AS c
            WHERE c.sourced_id IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM {incoming} AS i
                              WHERE i.source = c.source AND i.sourced_id = c.sourced_id)""")
        return view

    def _check_placed(self, entity: str) -> None:
        """Carrying records is refused while a school on record has no new key: what names it would
        point at nothing. A complete drop re-keys such a source."""
        lost = sorted(k for k, v in self.school_keys.items() if v is None)
        if not lost or not self.con.execute(f"SELECT count(*) FROM carried__{entity}").fetchone()[0]:
            return
        on_record = {r[0] for r in self.con.execute(
            "SELECT old_sourced_id FROM carried__orgs WHERE sourced_id IS NULL").fetchall()}
        lost = [k for k in lost if k in on_record]
        if lost:
            raise IdentityChangeError(
                f"source {self.change.current.name}: its schools mapping changed and {len(lost)} school(s) on "
                f"record ({', '.join(lost[:5])}{', ...' if len(lost) > 5 else ''}) cannot be placed under the new "
                f"mapping, while this sync does not resend every {entity} record (an incremental or partial "
                "drop): its records on record cannot be carried to their new ids. Sync a complete drop of the "
                "source (every file bulk, upload mode full) to re-key it; nothing was committed")

    def after_changes(self, entity: str) -> None:
        carry_golden_ids(self.con, entity, f"carried__{entity}", district=self.district)

    def after_cascades(self) -> dict[str, str]:
        """The old keys deleted; the relations of old key -> new key, to write beside the change set.
        ``moved``: per entity, the records deleted under one key and added under another (not
        deletions nor additions in the hold threshold's eyes)."""
        out = {}
        self.moved: dict[str, int] = {}
        for entity in entities.ENTITIES:
            self.con.execute(f"""INSERT INTO deletes__{entity}
                SELECT c.old_source, c.old_sourced_id, c.golden_id, 'rekeyed' FROM carried__{entity} AS c
                WHERE {_MOVED}""")
            self.con.execute(f"""CREATE OR REPLACE TEMP TABLE rekeyed__{entity} AS
                SELECT c.old_source, c.old_sourced_id, c.source, c.sourced_id FROM carried__{entity} AS c
                WHERE c.sourced_id IS NOT NULL AND {_MOVED}""")
            out[f"rekeyed__{entity}"] = f"rekeyed__{entity}"
            self.moved[entity] = self.con.execute(f"""SELECT count(*) FROM rekeyed__{entity} AS r
                SEMI JOIN upserts__{entity} AS u ON u.source = r.source AND u.sourced_id = r.sourced_id""").fetchone()[0]
        return out
