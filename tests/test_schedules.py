"""Unattended syncs: due times in a district's time zone, the district_syncs schedule, pauses and expiry,
and the new_drops sensor (once per drop, after it settles)."""

from __future__ import annotations

import os
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
import yaml
from pydantic import ValidationError

from passport_pipelines.config.integration import Integration
from passport_pipelines.config.schedule import SyncSchedule
from passport_pipelines.definitions import defs
from passport_pipelines.jobs.partitions import district_partitions, school_year_partitions
from passport_pipelines.jobs.scheduling.district_syncs import district_syncs
from passport_pipelines.jobs.scheduling.due_syncs import due_syncs, fleet_due_syncs
from passport_pipelines.jobs.scheduling.due_times import current_school_year, latest_due, next_due
from passport_pipelines.sensors.new_drops import new_drops
from tests.conftest import write_integration
from tests.district_files import make_district

CHICAGO = ZoneInfo("America/Chicago")
UTC = timezone.utc


def _integration(**extra) -> Integration:
    return Integration.model_validate({
        "district": "lakeside", "name": "Lakeside", "school_years": ["2025-2026", "2026-2027"],
        "sources": [{"name": "sis", "type": "csv", "path": "/tmp/none"}], **extra})


def test_daily_and_weekly_due_times_follow_the_district_clock_across_daylight_saving():
    daily = SyncSchedule(every="daily", at="05:30", timezone="America/Chicago")
    # 2026-03-08: Chicago moves from CST (UTC-6) to CDT (UTC-5) at 02:00; that day 05:30 is 10:30 UTC.
    assert latest_due(daily, datetime(2026, 3, 8, 10, 31, tzinfo=UTC)) == datetime(2026, 3, 8, 5, 30, tzinfo=CHICAGO)
    assert latest_due(daily, datetime(2026, 3, 8, 10, 29, tzinfo=UTC)) == datetime(2026, 3, 7, 5, 30, tzinfo=CHICAGO)
    assert next_due(daily, datetime(2026, 3, 7, 12, 0, tzinfo=UTC)).astimezone(UTC) == \
        datetime(2026, 3, 8, 10, 30, tzinfo=UTC)
    weekly = SyncSchedule(every="weekly", day="wednesday", at="22:00", timezone="America/Chicago")
    # Thursday 2026-11-26 03:30 UTC is Wednesday 21:30 in Chicago: the week's run is still ahead.
    assert next_due(weekly, datetime(2026, 11, 26, 3, 30, tzinfo=UTC)) == datetime(2026, 11, 25, 22, 0, tzinfo=CHICAGO)
    assert latest_due(weekly, datetime(2026, 11, 26, 3, 30, tzinfo=UTC)) == \
        datetime(2026, 11, 18, 22, 0, tzinfo=CHICAGO)


def test_hourly_runs_at_its_minutes_and_expiry_ends_the_schedule():
    hourly = SyncSchedule(every="hourly", at="00:15", timezone="Asia/Kolkata", until="2026-12-01")
    now = datetime(2026, 11, 25, 10, 50, tzinfo=UTC)  # 16:20 in Kolkata
    assert latest_due(hourly, now) == datetime(2026, 11, 25, 16, 15, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert next_due(hourly, now) == datetime(2026, 11, 25, 17, 15, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert next_due(hourly, datetime(2026, 12, 1, 18, 50, tzinfo=UTC)) is None  # past the expiry day
    assert next_due(SyncSchedule(), now) is None  # no cadence: only by hand or on a new drop


def test_due_syncs_in_a_tick_window_the_school_year_start_pauses_and_expiry():
    window = timedelta(minutes=5)
    integration = _integration(schedule={"every": "daily", "at": "06:00", "timezone": "America/Chicago",
                                         "school_year_start": "08-01"})
    tick = datetime(2026, 7, 15, 11, 2, tzinfo=UTC)  # 06:02 in Chicago
    [due] = due_syncs(integration, tick, window)
    assert (due.school_year, due.trigger) == ("2025-2026", "schedule")
    assert due.run_key == "lakeside|2025-2026|2026-07-15T06:00:00-05:00"
    assert due_syncs(integration, tick + window, window) == []  # the next tick: already done
    # The first day of the new year: one sync of the new year (the daily one of that moment is the same).
    [start] = due_syncs(integration, datetime(2026, 8, 1, 11, 0, tzinfo=UTC), window)
    assert (start.school_year, start.trigger) == ("2026-2027", "year_start")
    paused = _integration(schedule={"every": "daily", "at": "06:00", "timezone": "America/Chicago"},
                          pause={"from": "2026-07-01", "until": "2026-07-31"})
    assert due_syncs(paused, tick, window) == []
    expired = _integration(schedule={"every": "daily", "at": "06:00", "timezone": "America/Chicago",
                                     "until": "2026-07-14"})
    assert due_syncs(expired, tick, window) == []
    assert current_school_year(["2025-2026", "2026-2027"], SyncSchedule(), datetime(2026, 6, 30, tzinfo=UTC)) == \
        "2025-2026"


def test_the_first_day_of_school_syncs_at_midnight_without_moving_the_regular_schedule():
    window = timedelta(minutes=5)
    integration = _integration(schedule={"every": "daily", "at": "06:00", "timezone": "America/Chicago"})
    first_days = {"2026-2027": datetime(2026, 8, 19).date()}  # the SIS calendar's first day, not 07-01
    # 12:00 am on 2026-08-19 in Chicago is 05:00 UTC (CDT).
    [first] = due_syncs(integration, datetime(2026, 8, 19, 5, 2, tzinfo=UTC), window, first_days)
    assert (first.school_year, first.trigger) == ("2026-2027", "first_day")
    assert first.due == datetime(2026, 8, 19, 0, 0, tzinfo=CHICAGO)
    assert first.run_key == "lakeside|2026-2027|2026-08-19T00:00:00-05:00"
    # The daily sync of that day is still at 06:00, and the days around it have no midnight sync.
    [daily] = due_syncs(integration, datetime(2026, 8, 19, 11, 2, tzinfo=UTC), window, first_days)
    assert (daily.trigger, daily.due) == ("schedule", datetime(2026, 8, 19, 6, 0, tzinfo=CHICAGO))
    assert due_syncs(integration, datetime(2026, 8, 18, 5, 2, tzinfo=UTC), window, first_days) == []
    off = _integration(schedule={"every": "daily", "at": "06:00", "timezone": "America/Chicago",
                                 "first_day_sync": False})
    assert due_syncs(off, datetime(2026, 8, 19, 5, 2, tzinfo=UTC), window, first_days) == []
    paused = _integration(schedule={"timezone": "America/Chicago"}, pause={"from": "2026-08-01", "until": "2026-08-31"})
    assert due_syncs(paused, datetime(2026, 8, 19, 5, 2, tzinfo=UTC), window, first_days) == []
    # passport integrations list shows the next one beside the regular next run.
    from passport_pipelines.cli.integrations_commands import _row
    row = _row(integration, None, datetime(2026, 8, 1, tzinfo=UTC), first_days)
    assert row["first_day_sync"] == "2026-08-19T00:00-05:00"
    assert row["next_run"] == "2026-08-01T06:00-05:00"


@pytest.mark.slow
def test_the_schedule_reads_the_first_day_from_the_synced_calendar(tmp_path, passport_home, sqlite_store):
    import json

    from click.testing import CliRunner

    from passport_pipelines.cli.main import cli
    from tests.sync_harness import run_sync

    drop = make_district(tmp_path / "drop", students=8)  # its schoolYear session starts 2025-08-18
    write_integration(tmp_path / "integrations", "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}],
                      schedule={"every": "daily", "at": "06:00", "timezone": "America/Chicago",
                                "school_year_start": "07-01"})
    with dg.instance_for_test() as instance:
        assert run_sync(instance, "lakeside")["status"] == "successfully in production"
        _register(instance, "lakeside", years=("2025-2026",))
        midnight = datetime(2025, 8, 18, 5, 0, tzinfo=UTC)  # 12:00 am in Chicago
        with dg.build_schedule_context(instance=instance, scheduled_execution_time=midnight,
                                       resources=defs.resources) as ctx:
            [request] = district_syncs(ctx)
        assert request.partition_key == "lakeside|2025-2026"
        assert request.tags["passport/trigger"] == "first_day"
        assert request.run_key == "lakeside|2025-2026|2025-08-18T00:00:00-05:00"
        with dg.build_schedule_context(instance=instance, scheduled_execution_time=midnight + timedelta(hours=6),
                                       resources=defs.resources) as ctx:
            [daily] = district_syncs(ctx)
        assert daily.tags["passport/trigger"] == "schedule"
    listed = CliRunner().invoke(cli, ["integrations", "list", "--json"])
    [row] = json.loads(listed.stdout)["integrations"]
    assert row["first_day_sync"] is None  # 2025-08-18 is behind us


@pytest.mark.parametrize("schedule, message", [
    ({"every": "daily", "at": "25:00"}, "not a time of day"),
    ({"every": "monthly"}, "'hourly', 'daily' or 'weekly'"),
    ({"every": "daily", "timezone": "Mars/Olympus"}, "not an IANA time zone"),
    ({"every": "weekly", "day": "funday"}, "'monday'"),
    ({"school_year_start": "13-01"}, "not a day of the year"),
    ({"school_year_start": "02-30"}, "not a day every year has"),
    ({"school_year_start": "02-29"}, "not a day every year has"),
    ({"school_year_start": "06-31"}, "month 06 has 30 days"),
])
def test_bad_schedules_are_named(schedule, message):
    with pytest.raises(ValidationError) as caught:
        _integration(schedule=schedule)
    assert message in str(caught.value)


def test_a_pause_needs_its_dates_in_order():
    with pytest.raises(ValidationError, match="before from"):
        _integration(pause={"from": "2026-08-01", "until": "2026-07-01"})


def _register(instance, *districts, years=("2025-2026", "2026-2027")):
    instance.add_dynamic_partitions(district_partitions.name, list(districts))
    instance.add_dynamic_partitions(school_year_partitions.name, list(years))


def test_the_district_syncs_schedule_requests_each_due_district_once(tmp_path, passport_home):
    folder = tmp_path / "integrations"
    source = [{"name": "sis", "type": "csv", "path": str(tmp_path / "drop")}]
    write_integration(folder, "lakeside", source, schedule={"every": "daily", "at": "06:00",
                                                            "timezone": "America/Chicago"})
    write_integration(folder, "hillview", source, schedule={"every": "daily", "at": "06:00",
                                                            "timezone": "America/New_York"})
    write_integration(folder, "summerville", source, schedule={"every": "hourly", "at": "00:00"},
                      pause={"from": "2026-06-01", "until": "2026-08-31"})
    with dg.instance_for_test() as instance:
        _register(instance, "lakeside", "hillview", "summerville")
        tick = datetime(2026, 7, 15, 11, 0, tzinfo=UTC)  # 06:00 in Chicago, 07:00 in New York
        with dg.build_schedule_context(instance=instance, scheduled_execution_time=tick,
                                       resources=defs.resources) as ctx:
            [request] = district_syncs(ctx)
        assert request.partition_key == "lakeside|2025-2026"
        assert request.tags["passport/trigger"] == "schedule"
        with dg.build_schedule_context(instance=instance, scheduled_execution_time=tick + timedelta(minutes=5),
                                       resources=defs.resources) as ctx:
            assert isinstance(district_syncs(ctx), dg.SkipReason)


def test_one_district_whose_schedule_cannot_be_worked_out_never_stops_the_others():
    tick = datetime(2026, 7, 15, 11, 2, tzinfo=UTC)  # 06:02 in Chicago
    good = _integration(schedule={"every": "daily", "at": "06:00", "timezone": "America/Chicago"})
    # A schedule the config refuses today, as a file written before that check would still give it.
    broken = _integration(schedule={"every": "daily", "at": "06:00", "timezone": "America/Chicago"})
    broken = broken.model_copy(update={"district": "brokenville",
                                       "schedule": broken.schedule.model_copy(update={"school_year_start": "02-30"})})
    due, warnings = fleet_due_syncs([broken, good], tick, timedelta(minutes=5))
    assert [(d.district, d.school_year) for d in due] == [("lakeside", "2026-2027")]
    assert len(warnings) == 1 and warnings[0].startswith("brokenville: no scheduled sync this tick")


def test_the_schedule_skips_a_file_with_an_impossible_day_and_syncs_the_rest(tmp_path, passport_home):
    folder = tmp_path / "integrations"
    source = [{"name": "sis", "type": "csv", "path": str(tmp_path / "drop")}]
    write_integration(folder, "lakeside", source, schedule={"every": "daily", "at": "06:00",
                                                            "timezone": "America/Chicago"})
    write_integration(folder, "brokenville", source, schedule={"every": "daily", "at": "06:00",
                                                               "timezone": "America/Chicago",
                                                               "school_year_start": "02-30"})
    with dg.instance_for_test() as instance:
        _register(instance, "lakeside", "brokenville")
        tick = datetime(2026, 7, 15, 11, 0, tzinfo=UTC)
        with dg.build_schedule_context(instance=instance, scheduled_execution_time=tick,
                                       resources=defs.resources) as ctx:
            requests = district_syncs(ctx)
    assert [r.partition_key for r in requests] == ["lakeside|2025-2026"]


def _sensor(instance):
    with dg.build_sensor_context(instance=instance, resources=defs.resources) as ctx:
        return new_drops(ctx)


def _age(folder, seconds: float) -> None:
    then = time.time() - seconds
    for path in folder.rglob("*"):
        os.utime(path, (then, then))


def test_a_new_drop_starts_one_sync_once_it_has_settled(tmp_path, passport_home):
    drop = make_district(tmp_path / "drop", students=5)
    integrations = tmp_path / "integrations"
    write_integration(integrations, "lakeside", [{"name": "sis", "type": "csv", "path": str(drop)}],
                      schedule={"on_new_drop": True})
    write_integration(integrations, "hillview", [{"name": "sis", "type": "csv", "path": str(drop)}])
    with dg.instance_for_test() as instance:
        _register(instance, "lakeside", "hillview")
        assert "still landing: lakeside" in _sensor(instance).skip_message  # just written
        _age(drop, 120)
        [first] = _sensor(instance)
        assert first.partition_key.startswith("lakeside|") and first.tags["passport/trigger"] == "drop"
        [again] = _sensor(instance)
        assert again.run_key == first.run_key  # the same drop: Dagster launches a run key once
        # The next drop: one file rewritten (here only its line endings).
        edited = (drop / "classes.csv").read_text().replace("\n", "\r\n")
        (drop / "classes.csv").write_text(edited, encoding="utf-8")
        _age(drop, 120)
        [second] = _sensor(instance)
        assert second.run_key != first.run_key

        # Paused: no sensor syncs.
        doc = yaml.safe_load((integrations / "lakeside.yaml").read_text())
        doc["state"] = "paused"
        (integrations / "lakeside.yaml").write_text(yaml.safe_dump(doc))
        assert isinstance(_sensor(instance), dg.SkipReason)


def test_a_new_zip_on_an_sftp_server_starts_one_sync_and_a_wrong_host_key_starts_none(tmp_path, passport_home,
                                                                                      monkeypatch):
    import shutil

    from tests.fakes.sftp_server import running_sftp_server

    root = tmp_path / "sftp_root"
    (root / "outbox").mkdir(parents=True)
    drop = make_district(tmp_path / "drop", students=5)
    shutil.make_archive(str(root / "outbox" / "roster-1"), "zip", drop)
    _age(root, 300)
    monkeypatch.setenv("LAKESIDE_SFTP_PASSWORD", "s3cret")
    with running_sftp_server(root) as server, running_sftp_server(tmp_path / "elsewhere") as impostor, \
            dg.instance_for_test() as instance:
        source = {"name": "nightly", "type": "sftp", "host": server.host, "port": server.port,
                  "username": server.username, "password": "env:LAKESIDE_SFTP_PASSWORD", "remote_path": "/outbox",
                  "host_key": server.host_key_line}
        write_integration(tmp_path / "integrations", "lakeside", [source], schedule={"on_new_drop": True})
        _register(instance, "lakeside")
        [first] = _sensor(instance)
        shutil.make_archive(str(root / "outbox" / "roster-2"), "zip", drop)  # the next night's zip
        _age(root, 120)
        [second] = _sensor(instance)
        assert second.run_key != first.run_key and second.partition_key == first.partition_key

        write_integration(tmp_path / "integrations", "lakeside", [{**source, "host_key": impostor.host_key_line}],
                          schedule={"on_new_drop": True})
        assert isinstance(_sensor(instance), dg.SkipReason)  # a server we cannot trust is never listed
