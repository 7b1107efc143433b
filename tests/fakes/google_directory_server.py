"""A fake Google Workspace: the OAuth token endpoint's JWT-bearer grant and the Admin SDK Directory
``users.list``, serving the synthetic district's staff and students as Google accounts.

Token endpoint (``POST /token``, as oauth2.googleapis.com/token): the assertion is verified for
real with the service account's public key (RS256 signature, ``kid``), ``aud`` (the URL posted
to), ``iat``/``exp`` (at most an hour apart, not expired, not from the future), ``scope``, and
``sub`` (an account of the domain). Errors as Google answers them: 400 ``invalid_grant`` (bad
signature, unknown service account, unknown subject, stale assertion), 400 ``invalid_scope`` (no
scope), 401 ``unauthorized_client`` (a scope the admin console has not delegated to the client).

Writes (``users.insert``, ``users.patch``/``update``, ``users.delete``): ``google_directory_writes.py``.

Directory (``GET /admin/directory/v1/users``): bearer tokens, the delegated user must be an
admin and the token must carry a directory user scope; ``customer`` (``my_customer`` or the
customer id) or ``domain`` required; ``maxResults`` 1..500 (default 100); ``orderBy`` email,
givenName or familyName; opaque page tokens that are positions in the order (not snapshots: an
account deleted meanwhile is simply not there, nothing repeats); ``users`` is left out of an
empty page and ``nextPageToken`` out of the last. Errors use Google's envelope
``{"error": {"code", "message", "errors": [{"message", "domain", "reason"}], "status"}}``.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import json
import secrets
import threading
import time
from pathlib import Path
from typing import Iterator

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.fakes.district_data import DistrictData
from tests.fakes.google_directory_writes import USER_PATH, DirectoryWrites
from tests.fakes.http_fake import FakeApiServer, FakeRequest, FakeResponse

USERS_PATH = "/admin/directory/v1/users"
TOKEN_PATH = "/token"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
READONLY_SCOPE = "https://www.googleapis.com/auth/admin.directory.user.readonly"
DIRECTORY_SCOPES = frozenset({READONLY_SCOPE, "https://www.googleapis.com/auth/admin.directory.user",
                              "https://www.googleapis.com/auth/cloud-platform"})
CUSTOMER_ID = "C03az79cb"
STAFF_DOMAIN = "passport-usd.org"
ADMIN_EMAIL = f"it.admin@{STAFF_DOMAIN}"
ORDER_FIELDS = {"email": lambda u: u["primaryEmail"].lower(),
                "givenName": lambda u: u["name"]["givenName"].lower(),
                "familyName": lambda u: u["name"]["familyName"].lower()}
SHORT_LIVED = ("Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe. "
               "Check your iat and exp values in the JWT claim.")
UNAUTHORIZED_CLIENT = ("Client is unauthorized to retrieve access tokens using this method, or client not "
                       "authorized for any of the scopes requested.")


def google_error(code: int, message: str, reason: str, status: str, domain: str = "global") -> FakeResponse:
    return FakeResponse(code, {"error": {"code": code, "message": message, "errors": [
        {"message": message, "domain": domain, "reason": reason}], "status": status}})


def oauth_error(code: int, error: str, description: str) -> FakeResponse:
    return FakeResponse(code, {"error": error, "error_description": description})


def make_service_account_key(client_email: str, token_uri: str) -> tuple[dict, bytes]:
    """A service account JSON key as the Cloud console downloads it, and its public key (PEM)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    key = {"type": "service_account", "project_id": "passport-sync", "private_key_id": secrets.token_hex(20),
           "private_key": pem, "client_email": client_email, "client_id": str(10**20 + secrets.randbelow(10**20)),
           "auth_uri": "https://accounts.google.com/o/oauth2/auth", "token_uri": token_uri,
           "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
           "universe_domain": "googleapis.com"}
    public = private.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    return key, public


def google_user_id(email: str) -> str:
    return "1" + str(int(hashlib.sha256(email.encode()).hexdigest(), 16) % 10**20).zfill(20)


def account(email: str, given: str, family: str, org_unit: str, *, sis_id: str | None = None,
            suspended: bool = False, is_admin: bool = False) -> dict:
    """A Directory User resource (the basic projection)."""
    user = {
        "kind": "admin#directory#user", "id": google_user_id(email),
        "etag": f'"{hashlib.md5(email.encode()).hexdigest()}"', "primaryEmail": email,
        "name": {"givenName": given, "familyName": family, "fullName": f"{given} {family}"},
        "isAdmin": is_admin, "isDelegatedAdmin": False, "lastLoginTime": "1970-01-01T00:00:00.000Z",
        "creationTime": "2024-08-01T15:00:00.000Z", "agreedToTerms": True, "suspended": suspended,
        "archived": False, "changePasswordAtNextLogin": False, "ipWhitelisted": False,
        "emails": [{"address": email, "primary": True}], "customerId": CUSTOMER_ID, "orgUnitPath": org_unit,
        "isMailboxSetup": True, "isEnrolledIn2Sv": False, "isEnforcedIn2Sv": False,
        "includeInGlobalAddressList": True,
    }
    if sis_id:
        user["externalIds"] = [{"value": sis_id, "type": "organization"}]
    if suspended:
        user["suspensionReason"] = "ADMIN"
    return user


def district_accounts(data: DistrictData) -> list[dict]:
    """The district's students, teachers and administrators as Google accounts (guardians have
    none), provisioned the way SIS sync tools do it: the SIS id in externalIds, one org unit per
    school, suspended when the SIS disables the user; plus the IT admin the service account acts as."""
    schools = {o["sourcedId"]: o["name"] for o in data.tables["orgs"]}
    units = {"student": "/Students/{}", "teacher": "/Staff/Teachers/{}", "administrator": "/Staff/Administrators"}
    accounts = [account(ADMIN_EMAIL, "Information", "Technology", "/IT", is_admin=True)]
    for u in data.users:
        unit = units.get(u["role"])
        if unit is None or not u["email"]:
            continue
        school = schools.get(u["orgSourcedIds"].split(",")[0].strip(), "District Office")
        accounts.append(account(u["email"], u["givenName"], u["familyName"], unit.format(school),
                                sis_id=u["sourcedId"], suspended=u["enabledUser"].lower() == "false"))
    return accounts


class GoogleWorkspaceFake:
    """The state of one Workspace account and its answers; ``handle`` is given to FakeApiServer."""

    def __init__(self, accounts: list[dict], *, delegated_scopes: tuple[str, ...] = (READONLY_SCOPE,),
                 domains: tuple[str, ...] = (STAFF_DOMAIN, f"students.{STAFF_DOMAIN}")):
        self.domains = domains
        self.delegated_scopes = set(delegated_scopes)
        self.service_accounts: dict[str, tuple[str, bytes]] = {}  # client_email -> (kid, public key)
        self.assertions: list[tuple[dict, dict]] = []  # verified (header, claims), for tests to inspect
        self.server: FakeApiServer | None = None  # set by start_google_fake: its tokens are the ones issued
        self._users: dict[str, dict] = {}
        self._sorted: dict[str, tuple[list[tuple[str, str]], list[dict]]] = {}
        self._page_tokens: dict[str, tuple[tuple, tuple[str, str]]] = {}
        self._lock = threading.Lock()
        for user in accounts:
            self._users[user["primaryEmail"].lower()] = user
        self.writes = DirectoryWrites(self)  # users.insert / patch / update / delete

    # --- state a test can change between pages -------------------------------------------------
    def add_service_account(self, key: dict, public_key: bytes) -> None:
        self.service_accounts[key["client_email"]] = (key["private_key_id"], public_key)

    def add_user(self, user: dict) -> None:
        with self._lock:
            self._users[user["primaryEmail"].lower()] = user
            self._sorted.clear()

    def delete_user(self, email: str) -> None:
        with self._lock:
            del self._users[email.lower()]
            self._sorted.clear()

    def rename_user(self, email: str, new_email: str) -> None:
        """A new primary address; the account (its id) stays the same, as in the Admin console."""
        with self._lock:
            user = self._users.pop(email.lower())
            user["primaryEmail"] = new_email
            user["emails"] = [{"address": new_email, "primary": True}, {"address": email}]
            self._users[new_email.lower()] = user
            self._sorted.clear()

    def user(self, email: str) -> dict:
        return self._users[email.lower()]

    # --- requests -------------------------------------------------------------------------------
    def handle(self, request: FakeRequest) -> FakeResponse:
        if request.path == TOKEN_PATH and request.method == "POST":
            return self.token(request)
        if request.path == USERS_PATH and request.method == "GET":
            return self.list_users(request)
        if request.path == USERS_PATH and request.method == "POST":
            return self.writes.insert(request)
        match = USER_PATH.match(request.path)
        if match:
            return self.writes.user(request, match.group(1))
        return FakeResponse(404, "<!DOCTYPE html><title>Error 404 (Not Found)!!1</title><p>The requested URL "
                                 "was not found on this server.", {"Content-Type": "text/html; charset=UTF-8"})

    def token(self, request: FakeRequest) -> FakeResponse:
        form = request.form()
        if form.get("grant_type") != GRANT_TYPE:
            return oauth_error(400, "unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type', '')}")
        assertion = form.get("assertion", "")
        try:
            header = jwt.get_unverified_header(assertion)
            unverified = jwt.decode(assertion, options={"verify_signature": False})
        except jwt.PyJWTError:
            return oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
        entry = self.service_accounts.get(unverified.get("iss", ""))
        if entry is None:
            return oauth_error(400, "invalid_grant", "Invalid grant: account not found")
        kid, public_key = entry
        if header.get("kid") not in (None, kid):
            return oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
        token_url = request.url.split("?")[0]
        try:
            claims = jwt.decode(assertion, public_key, algorithms=["RS256"], audience=token_url,
                                options={"require": ["iss", "aud", "iat", "exp"]})
        except (jwt.InvalidSignatureError, jwt.InvalidAlgorithmError, jwt.DecodeError):
            return oauth_error(400, "invalid_grant", "Invalid JWT Signature.")
        except jwt.InvalidAudienceError:
            return oauth_error(400, "invalid_grant", "Invalid JWT: Failed audience check.")
        except (jwt.ExpiredSignatureError, jwt.ImmatureSignatureError, jwt.MissingRequiredClaimError):
            return oauth_error(400, "invalid_grant", SHORT_LIVED)
        if claims["exp"] - claims["iat"] > 3600 or claims["iat"] > time.time() + 300:
            return oauth_error(400, "invalid_grant", SHORT_LIVED)
        scopes = tuple(str(claims.get("scope", "")).split())
        if not scopes:
            return oauth_error(400, "invalid_scope", "Empty or missing scope not allowed.")
        subject = claims.get("sub")
        if subject is not None:
            user = self._users.get(str(subject).lower())
            if user is None or user["suspended"]:
                return oauth_error(400, "invalid_grant", "Invalid email or User ID")
            if not set(scopes) <= self.delegated_scopes:
                return oauth_error(401, "unauthorized_client", UNAUTHORIZED_CLIENT)
        self.assertions.append((header, claims))
        issued = self.server.tokens.issue(str(subject or claims["iss"]), scopes)
        return FakeResponse(200, {**issued, "expires_in": 3599})

    def list_users(self, request: FakeRequest) -> FakeResponse:
        granted = self.server.tokens.check(request.bearer())
        if granted is None:
            message = ("Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
                       "or other valid authentication credential.")
            return FakeResponse(401, {"error": {"code": 401, "message": message, "errors": [
                {"message": "Invalid Credentials", "domain": "global", "reason": "authError",
                 "location": "Authorization", "locationType": "header"}], "status": "UNAUTHENTICATED"}},
                {"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/", error="invalid_token"'})
        subject, scopes = granted
        if not set(scopes) & DIRECTORY_SCOPES:
            return google_error(403, "Request had insufficient authentication scopes.", "insufficientPermissions",
                                "PERMISSION_DENIED")
        caller = self._users.get(subject.lower())
        if caller is None or not caller["isAdmin"]:
            return google_error(403, "Not Authorized to access this resource/api", "forbidden", "PERMISSION_DENIED")
        customer, domain = request.arg("customer"), request.arg("domain")
        if not customer and not domain:
            return google_error(400, "Bad Request", "badRequest", "INVALID_ARGUMENT")
        if customer and customer not in ("my_customer", CUSTOMER_ID):
            return google_error(400, "Bad Request", "badRequest", "INVALID_ARGUMENT")
        if domain and not customer and domain.lower() not in self.domains:
            return google_error(403, "Not Authorized to access this resource/api", "forbidden", "PERMISSION_DENIED")
        raw_max = request.arg("maxResults", "100")
        if not raw_max.lstrip("-").isdigit() or not 1 <= int(raw_max) <= 500:
            message = f"Invalid value '{raw_max}'. Values must be within the range: [1, 500]"
            return google_error(400, message, "invalid", "INVALID_ARGUMENT")
        order_by = request.arg("orderBy", "email")
        sort_order = (request.arg("sortOrder") or "ASCENDING").upper()
        if order_by not in ORDER_FIELDS or sort_order not in ("ASCENDING", "DESCENDING"):
            bad = order_by if order_by not in ORDER_FIELDS else request.arg("sortOrder")
            return google_error(400, f"Invalid value '{bad}'", "invalid", "INVALID_ARGUMENT")
        query = (customer or "", "" if customer else domain.lower(), order_by, sort_order)
        after = None
        if request.arg("pageToken"):
            entry = self._page_tokens.get(request.arg("pageToken"))
            if entry is None or entry[0] != query:
                return google_error(400, "Invalid Input: pageToken", "invalid", "INVALID_ARGUMENT")
            after = entry[1]
        page, last, more = self._page(query, after, int(raw_max))
        body: dict = {"kind": "admin#directory#users", "etag": f'"{secrets.token_hex(8)}"'}
        if page:
            body["users"] = page
        if more:
            token = secrets.token_urlsafe(48)
            with self._lock:
                self._page_tokens[token] = (query, last)
            body["nextPageToken"] = token
        return FakeResponse(200, body)

    def _page(self, query: tuple, after: tuple[str, str] | None, size: int) -> tuple[list[dict], tuple, bool]:
        """Up to ``size`` users after position ``after`` in the query's order, the new position, and
        whether anything follows."""
        _, domain, order_by, sort_order = query
        with self._lock:
            if order_by not in self._sorted:
                field = ORDER_FIELDS[order_by]
                users = sorted(self._users.values(), key=lambda u: (field(u), u["primaryEmail"].lower()))
                self._sorted[order_by] = ([(field(u), u["primaryEmail"].lower()) for u in users], users)
            keys, users = self._sorted[order_by]
        if sort_order == "ASCENDING":
            start = 0 if after is None else bisect.bisect_right(keys, after)
            indices: Iterator[int] = iter(range(start, len(keys)))
        else:
            end = len(keys) if after is None else bisect.bisect_left(keys, after)
            indices = iter(range(end - 1, -1, -1))
        page: list[dict] = []
        last = after
        for i in indices:
            if domain and not users[i]["primaryEmail"].lower().endswith("@" + domain):
                continue
            if len(page) == size:
                return page, last, True
            page.append(users[i])
            last = keys[i]
        return page, last, False


@contextlib.contextmanager
def start_google_fake(data: DistrictData, *, tls: bool = False, tmp: Path | None = None,
                      delegated_scopes: tuple[str, ...] = (READONLY_SCOPE,)) -> Iterator[FakeApiServer]:
    """The district's Workspace on a local port; ``server.google`` is its state, ``server.key`` the
    service account's JSON key (registered with the fake, its ``token_uri`` pointing here)."""
    fake = GoogleWorkspaceFake(district_accounts(data), delegated_scopes=delegated_scopes)
    server = FakeApiServer(fake.handle, tls=tls, tmp=tmp)
    fake.server = server  # tokens live on the server, shared with fault injection
    key, public_key = make_service_account_key("passport-sync@passport-sync.iam.gserviceaccount.com",
                                               f"{server.url}{TOKEN_PATH}")
    fake.add_service_account(key, public_key)
    server.google = fake
    server.key = key
    with server:
        yield server


def google_source_config(server: FakeApiServer, name: str = "google", key_path: Path | None = None,
                         env_var: str = "GOOGLE_SERVICE_ACCOUNT_KEY") -> tuple[dict, dict[str, str]]:
    """The integration-file source pointing at the fake, and the environment it needs: the key's
    JSON text in ``env_var``, or (with ``key_path``) the key written there and its path in ``env_var``."""
    text = json.dumps(server.key)
    value = text
    if key_path is not None:
        Path(key_path).write_text(text, encoding="utf-8")
        value = str(key_path)
    config = {"name": name, "type": "google", "service_account_key": f"env:{env_var}",
              "delegated_admin": ADMIN_EMAIL, "base_url": server.url,
              "role_by_org_unit": {"/Students": "student", "/Staff": "teacher",
                                   "/Staff/Administrators": "administrator"}}
    if server.ca_file is not None:
        config["ca_bundle"] = str(server.ca_file)
    return config, {env_var: value}
