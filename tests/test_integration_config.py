"""Integration files: valid ones load; invalid ones say which file, which key, what is wrong."""

from __future__ import annotations

import pytest

from passport_pipelines.config.loader import IntegrationError, load_all, load_integration
from passport_pipelines.config.secrets import MissingSecretError, resolve_secret

VALID = """
district: lakeside
name: Lakeside USD
school_years: ["2025-2026"]
sources:
  - name: sis
    type: csv
    path: drops/latest
"""


def _write(tmp_path, text: str, name: str = "lakeside.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_file_loads_with_defaults_and_relative_paths(tmp_path):
    integration = load_integration(_write(tmp_path, VALID))
    source = integration.sources[0]
    assert (source.schema_, source.mode, integration.state) == ("oneroster-1.1", "full", "active")
    assert integration.resolve_path(source.path) == (tmp_path / "drops" / "latest").resolve()


@pytest.mark.parametrize("text, expected", [
    (VALID.replace("district: lakeside", "district: Lake_Side"), "district: must be a slug"),
    (VALID.replace('["2025-2026"]', '["2025-2027"]'), "school_years[0]: '2025-2027' is not a school year"),
    (VALID.replace("type: csv", "type: csv\n    bogus: 1"), "sources[0].bogus: unknown key"),
    (VALID.replace("    path: drops/latest\n", ""), "sources[0].path: required key is missing"),
    (VALID.replace("type: csv", "type: csv\n    schema: oneroster-9"), "sources[0].schema"),
    (VALID.replace("type: csv", "type: csv\n    mode: sometimes"), "sources[0].mode"),
    (VALID + "state: sleeping\n", "state"),
    (VALID + "  - name: sis\n    type: csv\n    path: x\n", "source names must be unique; repeated: sis"),
    ("district: [", "not valid YAML"),
])
def test_errors_name_the_file_and_the_key(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(IntegrationError) as err:
        load_integration(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_secrets_must_be_env_references_and_are_never_echoed(tmp_path):
    text = VALID.replace("""    type: csv
    path: drops/latest""", """    type: sftp
    host: sftp.example.org
    username: district
    password: hunter2-literal
    remote_path: /outbox
    host_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE""")
    with pytest.raises(IntegrationError) as err:
        load_integration(_write(tmp_path, text))
    assert "sources[0].password: secrets must be env:VAR references" in str(err.value)
    assert "hunter2-literal" not in str(err.value)


def test_sftp_requires_a_host_key(tmp_path):
    text = VALID.replace("""    type: csv
    path: drops/latest""", """    type: sftp
    host: sftp.example.org
    username: district
    password: env:SFTP_PASSWORD
    remote_path: /outbox""")
    with pytest.raises(IntegrationError, match="host key is always checked"):
        load_integration(_write(tmp_path, text))


def test_file_name_must_match_the_district(tmp_path):
    with pytest.raises(IntegrationError, match=r"must match the file name \(other.yaml\)"):
        load_integration(_write(tmp_path, VALID, "other.yaml"))


def test_load_all_keeps_valid_files_and_reports_invalid_ones(tmp_path):
    _write(tmp_path, VALID)
    _write(tmp_path, "district: broken\n", "broken.yaml")
    found, errors = load_all(tmp_path)
    assert list(found) == ["lakeside"]
    assert len(errors) == 1 and "broken.yaml" in errors[0]


def test_resolve_secret_names_the_variable_not_the_value(monkeypatch):
    monkeypatch.setenv("PASSPORT_TEST_SECRET", "s3cret")
    assert resolve_secret("env:PASSPORT_TEST_SECRET") == "s3cret"
    monkeypatch.delenv("PASSPORT_TEST_SECRET")
    with pytest.raises(MissingSecretError, match="PASSPORT_TEST_SECRET"):
        resolve_secret("env:PASSPORT_TEST_SECRET")


def test_a_process_that_reads_errors_it_did_not_raise_redacts_the_districts_secrets(tmp_path, monkeypatch):
    """The failure notification's sensor: it resolves the district's secrets, then the error line it
    sends cannot carry one, whatever raised it."""
    from passport_pipelines.config.secrets import REDACTED, integration_secrets
    from passport_pipelines.notifications.run_failure import first_line

    monkeypatch.setenv("PASSPORT_TEST_SFTP_PASSWORD", "Sftp-Pass-77x")
    text = VALID.replace("""    type: csv
    path: drops/latest""", """    type: sftp
    host: sftp.example.org
    username: district
    password: env:PASSPORT_TEST_SFTP_PASSWORD
    remote_path: /outbox
    host_key: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE""")
    integration = load_integration(_write(tmp_path, text))
    assert integration_secrets(integration) == 1
    line = first_line("paramiko.ssh_exception.SSHException: banner says Sftp-Pass-77x\ntraceback ...")
    # (other tests in this process may have resolved secrets that are common words: only this one is checked)
    assert line.startswith(f"SSHException: banner says {REDACTED}") and "Sftp-Pass-77x" not in line


# ------------------------------------------------------------------ what later crashed a sync, refused up front

@pytest.mark.parametrize("years, expected", [
    ('["1999-2000"]', "school_years[0]: '1999-2000' is outside the school years the hub accepts, 2000-2001 to "
                      "2098-2099"),
    ('["2025-2026", "2099-2100"]', "school_years[1]: '2099-2100' is outside"),
    ('["2036-2037"]', None),  # well-formed and plausible: accepted (the old fixed span ended in 2035)
    ('["2025-2026\\n"]', "school_years[0]: '2025-2026\\n' is not a school year like 2025-2026"),
    ('["٢٠٢٥-٢٠٢٦"]', "is not a school year like 2025-2026"),  # digits of another script
    ('["2025/2026"]', "is not a school year like 2025-2026"),
])
def test_school_years_are_checked_strictly(tmp_path, years, expected):
    path = _write(tmp_path, VALID.replace('["2025-2026"]', years))
    if expected is None:
        assert load_integration(path).school_years == ["2036-2037"]
        return
    with pytest.raises(IntegrationError) as err:
        load_integration(path)
    assert str(err.value).startswith(f"{path}: ") and expected in str(err.value)


@pytest.mark.parametrize("extra, expected", [
    ('schedule:\n  school_year_start: "02-30"', "schedule.school_year_start: '02-30' is not a day every year has "
                                                "(month 02 has 28 days"),
    ('schedule:\n  school_year_start: "02-29"', "schedule.school_year_start: '02-29' is not a day every year has"),
    ('schedule:\n  school_year_start: "04-31"', "month 04 has 30 days"),
    ("schedule:\n  until: 2026-02-30", "schedule.until: 2026-02-30 is not a real date (day is out of range"),
    ('schedule:\n  until: "2026-02-30"', "schedule.until: "),
    ("pause:\n  from: 2026-06-31\n  until: 2026-08-01", "pause.from: 2026-06-31 is not a real date"),
    ("schedule:\n  every: daily\n  at: 5:30", 'schedule.at: was read as the number 330; write the time of day in '
                                            'quotes, like at: "05:30"'),
    ('schedule:\n  at: "24:00"', "schedule.at: '24:00' is not a time of day"),
    ("schedule:\n  timezone: America", "schedule.timezone: 'America' is not an IANA time zone"),
    ("schedule:\n  timezone: ../../etc/passwd", "is not an IANA time zone"),
    (f"schedule:\n  timezone: {'A' * 300}", "is not an IANA time zone"),
    ("destinations:\n  - name: lms\n    type: oneroster-1.2-csv\n    until: 2027-13-01",
     "destinations[0].until: 2027-13-01 is not a real date (month must be in 1..12)"),
])
def test_impossible_dates_times_and_zones_are_named_by_key(tmp_path, extra, expected):
    path = _write(tmp_path, VALID + extra + "\n")
    with pytest.raises(IntegrationError) as err:
        load_integration(path)
    assert str(err.value).startswith(f"{path}: ") and expected in str(err.value)


@pytest.mark.parametrize("rules, expected", [
    ({"filters": {"student": [{"keep_if": {"all": [{"field": "email", "op": "eq", "value": "a\0b"}]}}]}},
     "sources[0]: filters.student[0].keep_if.all[0].value: contains the control character U+0000 (NUL)"),
    ({"transforms": {"users": [{"field": "username", "template": "{given_name}\n{family_name}"}]}},
     "sources[0]: transforms.users[0].template: contains the control character U+000A (line feed)"),
    ({"transforms": {"users": [{"field": "grades", "value_map": {"K\x1b[2J": "KG"}}]}},
     "sources[0]: transforms.users[0].value_map: a key: contains the control character U+001B (escape)"),
    ({"transforms": {"users": [{"field": "phone", "regex_replace": {"pattern": "x", "replacement": "\r"}}]}},
     "sources[0]: transforms.users[0].regex_replace.replacement: contains the control character U+000D"),
    ({"filters": {"student": [{"template": "exclude_schools", "schools": ["sch-1\t"]}]}},
     "sources[0]: filters.student[0].schools[0]: contains the control character U+0009 (tab)"),
    ({"attributes": {"users": {"state_id": "metadata.ssid\x7f"}}},
     "sources[0]: attributes.users.state_id: contains the control character U+007F (DEL)"),
    ({"schools": {"mode": "explicit", "map": {"sch-1": "lincoln\x00"}}},
     "sources[0]: schools.map.sch-1: contains the control character U+0000"),
])
def test_control_characters_in_rules_are_refused_naming_the_key(tmp_path, rules, expected):
    import yaml

    doc = yaml.safe_load(VALID)
    doc["sources"][0].update(rules)
    path = _write(tmp_path, yaml.safe_dump(doc))  # YAML escapes them as "\0", "\e", ... in quotes
    with pytest.raises(IntegrationError) as err:
        load_integration(path)
    assert f"{path}: {expected}" in str(err.value)


def test_control_characters_in_the_district_schools_are_refused(tmp_path):
    path = _write(tmp_path, VALID + 'schools:\n  - {id: "lincoln\\0", name: Lincoln}\n')
    with pytest.raises(IntegrationError, match=r"schools\[0\]: id: contains the control character U\+0000"):
        load_integration(path)


def _billion_laughs() -> str:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n" + VALID


def test_a_billion_laughs_file_is_refused_fast_in_little_memory(tmp_path):
    import time
    import tracemalloc

    bomb = _write(tmp_path, _billion_laughs())
    assert bomb.stat().st_size < 1000  # 9^9 "lol"s in under a kilobyte
    tracemalloc.start()
    started = time.perf_counter()
    try:
        with pytest.raises(IntegrationError) as err:
            load_integration(bomb)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 2.0 and peak < 20 * 2**20
    assert str(err.value).startswith(f"{bomb}: the document would expand to more than 200,000 values")
    # The rest of the fleet still loads.
    _write(tmp_path, VALID.replace("lakeside", "hillview"), "hillview.yaml")
    found, errors = load_all(tmp_path)
    assert list(found) == ["hillview"] and len(errors) == 1 and "would expand" in errors[0]


@pytest.mark.parametrize("text, expected", [
    ("x: &a [1, *a]\n" + VALID, "line 1: alias *a refers to the collection it is inside of"),
    ("x: " + "[" * 100 + "]" * 100 + "\n" + VALID, "values are nested more than 64 levels deep"),
    ("a: &a 1\nx: [" + ", ".join(["*a"] * 501) + "]\n", "more than 500 aliases"),
    ("x: !!python/object/apply:os.system [echo pwned]\n" + VALID, "not valid YAML"),
])
def test_other_yaml_that_costs_too_much_or_runs_code_is_refused(tmp_path, text, expected):
    path = _write(tmp_path, text)
    with pytest.raises(IntegrationError) as err:
        load_integration(path)
    assert expected in str(err.value)


def test_an_oversized_file_is_refused_before_it_is_parsed(tmp_path):
    path = _write(tmp_path, VALID + "# " + "x" * (1 << 20) + "\n")
    with pytest.raises(IntegrationError, match="larger than 1024 KiB"):
        load_integration(path)
