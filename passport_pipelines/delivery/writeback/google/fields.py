"""What a Google Workspace write-back changes: one entity (``account``), three actions, and the
Directory API user fields it writes."""

from __future__ import annotations

ACCOUNT = "account"
INSERT = "INSERT"
UPDATE = "UPDATE"
SUSPEND = "SUSPEND"

PRIMARY_EMAIL = "primaryEmail"
GIVEN_NAME = "name.givenName"
FAMILY_NAME = "name.familyName"
ORG_UNIT = "orgUnitPath"
SIS_ID = "externalIds.organization"  # the person's SIS id, as the Google source reads it back
SUSPENDED = "suspended"

NAME_FIELDS = (GIVEN_NAME, FAMILY_NAME)
REQUIRED_ON_INSERT = (PRIMARY_EMAIL, GIVEN_NAME, FAMILY_NAME, ORG_UNIT)
DIRECTORY_WRITE_SCOPE = "https://www.googleapis.com/auth/admin.directory.user"
