"""Where a district hears about its syncs: finished, held and failed, by webhook or e-mail.

```yaml
notifications:
  - type: webhook                       # HTTP POST of a JSON body
    url: https://hooks.example.org/passport
    secret: env:PASSPORT_WEBHOOK_SECRET # optional: signs the body (X-Passport-Signature: sha256=...)
    events: [finished, held, failed]
  - type: email                         # through the SMTP server of the environment (docs/notifications.md)
    to: [data-team@lakeside.k12.us]
    events: [held, failed]
```
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator

from passport_pipelines.config.secrets import is_secret_ref

Event = Literal["finished", "held", "failed"]
EVENTS: tuple[str, ...] = ("finished", "held", "failed")
EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Notification(_Strict):
    events: list[Event] = Field(default_factory=lambda: list(EVENTS), min_length=1)


class WebhookNotification(_Notification):
    type: Literal["webhook"]
    url: str = Field(description="http(s) URL that receives a POST of JSON")
    secret: str | None = Field(None, description="env:VAR: the HMAC-SHA256 key that signs the body")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not re.match(r"^https?://[^\s/]+", v):
            raise ValueError(f"{v!r} is not an http(s) URL")
        return v

    @field_validator("secret")
    @classmethod
    def _secret(cls, v: str | None) -> str | None:
        if v is not None and not is_secret_ref(v):
            raise ValueError("secrets must be env:VAR references, never literal values")
        return v


class EmailNotification(_Notification):
    type: Literal["email"]
    to: list[str] = Field(min_length=1)

    @field_validator("to")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        bad = [a for a in v if not EMAIL.match(a)]
        if bad:
            raise ValueError(f"not an e-mail address: {', '.join(bad)}")
        return v


Notification = Annotated[Union[WebhookNotification, EmailNotification], Field(discriminator="type")]
