"""The shape of one district's integration file, as pydantic models.

Only what the pipeline uses today is accepted; unknown keys are errors so that a typo never
silently changes a sync.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from passport_pipelines.config.change_control import ChangeControl
from passport_pipelines.config.destinations import (
    Destination,
    GoogleWorkspaceDestination,
    OneRosterApiDestination,
    OneRosterCsvDestination,
    PowerSchoolWritebackDestination,
)
from passport_pipelines.config.master_fields import validate_master_fields
from passport_pipelines.config.notifications import Notification
from passport_pipelines.config.plain_text import refuse_control_characters
from passport_pipelines.config.reconciliation import Reconciliation
from passport_pipelines.config.schedule import Pause, SyncSchedule
from passport_pipelines.config.school_years import check_school_year
from passport_pipelines.config.sources import ApiSource, DropSource, Source
from passport_pipelines.config.year_locations import unlisted_years

SLUG = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _refuse_repeats(what: str, names: list[str]) -> None:
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ValueError(f"{what} names must be unique; repeated: {', '.join(dupes)}")


class DistrictSchool(_Strict):
    """One of the district's own schools: what source schools are mapped to."""

    id: str = Field(description="the school's id in delivered data")
    name: str
    identifier: str | None = Field(None, description="e.g. the NCES id: what `schools: auto` matches on")

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, data: object) -> object:
        # Ids and identifiers end up in the school mapping's SQL and in delivered files.
        refuse_control_characters(data)
        return data


class Integration(_Strict):
    district: str = Field(description="slug, used as the Dagster partition key")
    name: str
    state: Literal["active", "paused"] = "active"
    sync_mode: Literal["import", "two_way"] = Field("import", description="two_way: write back into the SIS")
    school_years: list[Annotated[str, AfterValidator(check_school_year)]] = Field(min_length=1)
    schools: list[DistrictSchool] = Field(default_factory=list, description="the district's schools")
    sources: list[Source] = Field(min_length=1)
    destinations: list[Destination] = Field(default_factory=list, description="exports and write-back")
    reconciliation: Reconciliation = Field(default_factory=Reconciliation,
                                           description="domains of uniqueness: when two records are one person")
    master_fields: dict[str, dict[str, list[str]]] = Field(
        default_factory=dict, description="entity -> attribute (or \"*\") -> sources whose value wins, in order")
    change_control: ChangeControl = Field(default_factory=ChangeControl,
                                          description="preview, the sync hold threshold, deletions")
    schedule: SyncSchedule = Field(default_factory=SyncSchedule, description="unattended syncs")
    pause: Pause | None = Field(None, description="a date range without scheduled or sensor syncs")
    notifications: list[Notification] = Field(default_factory=list,
                                              description="webhooks and e-mail on finished, held, failed syncs")

    # Set by the loader, not by the file: paths in the file are relative to it.
    file: Path | None = Field(None, exclude=True)

    @field_validator("district")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG.match(v):
            raise ValueError(
                "must be a slug: lower-case letters, digits and hyphens, 1-64 characters, "
                "not starting or ending with a hyphen"
            )
        return v

    @field_validator("school_years")
    @classmethod
    def _years(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("school years are listed twice")
        return v

    @model_validator(mode="after")
    def _unique_sources(self) -> "Integration":
        _refuse_repeats("source", [s.name for s in self.sources])
        return self

    @model_validator(mode="after")
    def _source_years(self) -> "Integration":
        for source in self.sources:
            key = "path" if source.type == "csv" else "remote_path"
            unlisted = unlisted_years(getattr(source, key, None), self.school_years)
            if unlisted:
                raise ValueError(f"source {source.name}: {key} names school year(s) {', '.join(unlisted)}, which "
                                 f"school_years does not list ({', '.join(self.school_years)})")
        return self

    @model_validator(mode="after")
    def _school_mappings(self) -> "Integration":
        ids = [s.id for s in self.schools]
        if len(set(ids)) != len(ids):
            raise ValueError("schools: a school id is listed twice")
        known = set(ids)
        for source in self.sources:
            mapping = source.schools
            if mapping is None:
                continue
            mode = "auto" if mapping == "auto" else mapping.mode
            if mode == "auto" and not any(s.identifier for s in self.schools):
                raise ValueError(f"source {source.name}: schools: auto matches identifiers, so the district's "
                                 "schools: list needs them")
            if mode == "explicit" and self.schools:
                unknown = sorted(set(mapping.map.values()) - known)
                if unknown:
                    raise ValueError(f"source {source.name}: schools.map names schools the district does not list: "
                                     f"{', '.join(unknown)}")
        return self

    @model_validator(mode="after")
    def _destinations(self) -> "Integration":
        _refuse_repeats("destination", [d.name for d in self.destinations])
        for d in self.destinations:
            if isinstance(d, (PowerSchoolWritebackDestination, GoogleWorkspaceDestination)):
                kind = "powerschool" if isinstance(d, PowerSchoolWritebackDestination) else "google"
                if self.sync_mode != "two_way":
                    raise ValueError(f"destination {d.name}: write-back needs sync_mode: two_way")
                if d.source not in {s.name for s in self.sources if s.type == kind}:
                    raise ValueError(f"destination {d.name}: source {d.source!r} is not a {kind} source of "
                                     "this integration")
            if isinstance(d, OneRosterApiDestination):
                unlisted = sorted(set(d.school_years or ()) - set(self.school_years))
                if unlisted:
                    raise ValueError(f"destination {d.name}: school_years {', '.join(unlisted)} not among the "
                                     f"district's school_years ({', '.join(self.school_years)})")
        _refuse_repeats("api client id", [d.client_id for d in self.api_destinations])
        return self

    @property
    def two_way_destinations(self) -> list:
        return [d for d in self.destinations
                if isinstance(d, (PowerSchoolWritebackDestination, GoogleWorkspaceDestination))]

    @property
    def api_destinations(self) -> list[OneRosterApiDestination]:
        return [d for d in self.destinations if isinstance(d, OneRosterApiDestination)]

    @property
    def csv_destinations(self) -> list[OneRosterCsvDestination]:
        return [d for d in self.destinations if isinstance(d, OneRosterCsvDestination)]

    @model_validator(mode="after")
    def _master_fields(self) -> "Integration":
        validate_master_fields(self.master_fields, [s.name for s in self.sources])
        return self

    def paused_on(self, day) -> bool:
        """Whether syncs are paused on ``day`` (a date in the schedule's time zone)."""
        return self.state == "paused" or (self.pause is not None and self.pause.covers(day))

    def source(self, name: str) -> DropSource | ApiSource:
        for s in self.sources:
            if s.name == name:
                return s
        raise KeyError(f"integration {self.district} has no source named {name!r}")

    def resolve_path(self, path: Path) -> Path:
        """A path from the file: ~ expanded, relative ones taken from the file's folder."""
        path = Path(str(path)).expanduser()
        if not path.is_absolute() and self.file is not None:
            path = self.file.parent / path
        return path.resolve()
