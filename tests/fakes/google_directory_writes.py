"""The fake Google Workspace's writes, as the Admin SDK Directory API documents them: ``users.insert``
(``POST /admin/directory/v1/users``), ``users.patch`` / ``users.update`` (``PATCH`` / ``PUT
/admin/directory/v1/users/{userKey}``, the key an id or a primary address) and ``users.delete``
(``DELETE``, answered 204: the hub must never call it, and the tests check it never does).

What it enforces: a live token carrying ``admin.directory.user`` (the read-only scope is 403
``insufficientPermissions``) of an admin; a JSON body; on insert ``primaryEmail`` in one of the
account's domains, ``name.givenName``, ``name.familyName`` and a ``password`` of 8 to 100 characters;
an ``orgUnitPath`` that exists (400 ``Invalid Input: INVALID_OU_ID``); an address no account has (409
``Entity already exists.``, reason ``duplicate``); an unknown ``userKey`` is 404 ``notFound``. Writes are
applied to the fake's accounts, so the next ``users.list`` shows them.
"""

from __future__ import annotations

import re

from tests.fakes.http_fake import FakeRequest, FakeResponse

WRITE_SCOPE = "https://www.googleapis.com/auth/admin.directory.user"
USER_PATH = re.compile(r"^/admin/directory/v1/users/([^/]+)$")


class DirectoryWrites:
    def __init__(self, fake):
        self.fake = fake  # GoogleWorkspaceFake: its accounts, domains and token checks
        self.org_units = {"/"}
        for user in fake._users.values():
            self.add_org_unit(user["orgUnitPath"])
        self.applied: list[tuple[str, str]] = []  # (method, user id) of every write accepted
        self.deleted: list[str] = []
        self.refuse_next: dict[str, tuple[int, str, str]] = {}  # address -> an error to answer once

    def add_org_unit(self, path: str) -> None:
        parts = [p for p in path.split("/") if p]
        for i in range(1, len(parts) + 1):
            self.org_units.add("/" + "/".join(parts[:i]))

    # ------------------------------------------------------------------ requests
    def authorize(self, request: FakeRequest) -> FakeResponse | None:
        from tests.fakes.google_directory_server import google_error

        granted = self.fake.server.tokens.check(request.bearer())
        if granted is None:
            return google_error(401, "Request had invalid authentication credentials.", "authError",
                                "UNAUTHENTICATED")
        subject, scopes = granted
        if WRITE_SCOPE not in scopes:
            return google_error(403, "Request had insufficient authentication scopes.", "insufficientPermissions",
                                "PERMISSION_DENIED")
        caller = self.fake._users.get(subject.lower())
        if caller is None or not caller["isAdmin"]:
            return google_error(403, "Not Authorized to access this resource/api", "forbidden", "PERMISSION_DENIED")
        if request.method in ("POST", "PUT", "PATCH") and \
                not (request.header("content-type") or "").startswith("application/json"):
            return google_error(400, "Bad Request", "badRequest", "INVALID_ARGUMENT")
        return None

    def insert(self, request: FakeRequest) -> FakeResponse:
        from tests.fakes.google_directory_server import account, google_error

        denied = self.authorize(request)
        if denied is not None:
            return denied
        body = request.json() or {}
        email = str(body.get("primaryEmail") or "")
        name = body.get("name") or {}
        if email.lower() in self.refuse_next:
            code, message, reason = self.refuse_next.pop(email.lower())
            return google_error(code, message, reason, "FAILED_PRECONDITION")
        if "@" not in email or email.rsplit("@", 1)[1].lower() not in self.fake.domains:
            return google_error(400, "Invalid Input: primary_user_email", "invalid", "INVALID_ARGUMENT")
        for key, label in (("givenName", "GivenName"), ("familyName", "FamilyName")):
            if not str(name.get(key) or "").strip():
                return google_error(400, f"Invalid Given/Family Name: {label}", "invalid", "INVALID_ARGUMENT")
        if not 8 <= len(str(body.get("password") or "")) <= 100:
            return google_error(400, "Invalid Password", "invalid", "INVALID_ARGUMENT")
        unit = body.get("orgUnitPath") or "/"
        if unit not in self.org_units:
            return google_error(400, "Invalid Input: INVALID_OU_ID", "invalid", "INVALID_ARGUMENT")
        if email.lower() in self.fake._users:
            return google_error(409, "Entity already exists.", "duplicate", "ALREADY_EXISTS")
        sis = next((e["value"] for e in body.get("externalIds") or [] if e.get("type") == "organization"), None)
        user = account(email, name["givenName"], name["familyName"], unit, sis_id=sis,
                       suspended=bool(body.get("suspended")))
        user["changePasswordAtNextLogin"] = bool(body.get("changePasswordAtNextLogin"))
        self.fake.add_user(user)
        self.applied.append(("POST", user["id"]))
        return FakeResponse(200, user)

    def _find(self, key: str) -> dict | None:
        key = key.lower()
        return self.fake._users.get(key) or next((u for u in self.fake._users.values() if u["id"] == key), None)

    def user(self, request: FakeRequest, key: str) -> FakeResponse:
        from tests.fakes.google_directory_server import google_error

        denied = self.authorize(request)
        if denied is not None:
            return denied
        user = self._find(key)
        if user is None:
            return google_error(404, "Resource Not Found: userKey", "notFound", "NOT_FOUND")
        if request.method == "DELETE":
            self.fake.delete_user(user["primaryEmail"])
            self.deleted.append(user["id"])
            return FakeResponse(204, None)
        if request.method not in ("PATCH", "PUT"):
            return google_error(405, "Method Not Allowed", "badRequest", "INVALID_ARGUMENT")
        body = request.json() or {}
        if "orgUnitPath" in body and body["orgUnitPath"] not in self.org_units:
            return google_error(400, "Invalid Input: INVALID_OU_ID", "invalid", "INVALID_ARGUMENT")
        name = body.get("name") or {}
        if any(k in name and not str(name[k] or "").strip() for k in ("givenName", "familyName")):
            return google_error(400, "Invalid Given/Family Name", "invalid", "INVALID_ARGUMENT")
        with self.fake._lock:
            if name:
                user["name"] = {**user["name"], **name}
                user["name"]["fullName"] = f"{user['name']['givenName']} {user['name']['familyName']}"
            for key_ in ("orgUnitPath", "externalIds"):
                if key_ in body:
                    user[key_] = body[key_]
            if "suspended" in body:
                user["suspended"] = bool(body["suspended"])
                if user["suspended"]:
                    user["suspensionReason"] = "ADMIN"
                else:
                    user.pop("suspensionReason", None)
            self.fake._sorted.clear()
        if "primaryEmail" in body and body["primaryEmail"].lower() != user["primaryEmail"].lower():
            self.fake.rename_user(user["primaryEmail"], body["primaryEmail"])
        self.applied.append((request.method, user["id"]))
        return FakeResponse(200, user)
