"""The SSO Credentials CSV schema: one file, ``credentials.csv``, one row per person and application.

The password column is a secret: validation reads it (it is required) but findings never show
it, the sync encrypts it before anything is written to disk, and it never becomes a canonical
row, so no export can carry it.
"""

from __future__ import annotations

from passport_pipelines.validation.oneroster.spec import Column, FileSpec

SCHEMA = "sso-credentials"

FILES: dict[str, FileSpec] = {
    "credentials": FileSpec("credentials", (
        Column("user_id", required=True, kind="id",
               description="the person's sourced id, as any source of the same district gives it"),
        Column("application", required=True,
               description="the application the credential opens (its name or id, e.g. 'reading-plus')"),
        Column("login", required=True, description="the person's user name at the application"),
        Column("password", required=True,
               description="the secret; encrypted at rest, never logged, shown or exported"),
        Column("url", description="the application's login page"),
    ), key=("user_id", "application")),
}


def entity_modes(modes: dict[str, str]) -> dict[str, str]:
    """Credentials are not roster data: every canonical entity is absent (left as it is)."""
    from passport_pipelines.model.entities import ENTITIES

    return {entity: "absent" for entity in ENTITIES}
