"""How to reach an SFTP server, shared by SFTP sources (drops fetched) and destinations (zips delivered).

The server's host key is always checked (``host_key`` or ``known_hosts``); the password and the key's
passphrase are ``env:VAR`` references.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, field_validator, model_validator

from passport_pipelines.config.secrets import is_secret_ref


class SftpConnection(BaseModel):
    host: str
    port: int = Field(22, ge=1, le=65535)
    username: str
    password: str | None = None
    private_key: Path | None = None
    private_key_passphrase: str | None = None
    known_hosts: Path | None = Field(None, description="OpenSSH known_hosts file holding the server's key")
    host_key: str | None = Field(None, description="the server's public key, e.g. 'ssh-ed25519 AAAA...'")
    timeout_seconds: float = Field(30.0, gt=0)

    @field_validator("password", "private_key_passphrase")
    @classmethod
    def _secrets(cls, v: str | None) -> str | None:
        if v is not None and not is_secret_ref(v):
            raise ValueError("secrets must be env:VAR references (e.g. env:SFTP_PASSWORD), never literal values")
        return v

    @model_validator(mode="after")
    def _auth_and_host_key(self):
        if self.password is None and self.private_key is None:
            raise ValueError("give password (env:VAR) or private_key")
        if self.known_hosts is None and self.host_key is None:
            raise ValueError("give known_hosts or host_key: the server's host key is always checked")
        return self
