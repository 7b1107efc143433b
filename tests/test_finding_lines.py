"""Findings name the line a record starts on, even after multi-line cells and blank lines."""

from __future__ import annotations

from passport_pipelines.validation.oneroster.reader import record_lines
from passport_pipelines.validation.oneroster.validation import validate_package
from tests.oneroster_packages import write_package


def test_record_lines_follow_quoted_line_breaks_and_skipped_blank_lines():
    data = b'a,b\n1,"x\ny"\n\n3,4\r\n\r\n5,6'
    assert record_lines(data, 3).tolist() == [2, 5, 7]
    assert record_lines(b"a,b\n1,2\n3,4\n", 2).tolist() == [2, 3]


def test_a_finding_after_a_multi_line_cell_names_the_right_line(tmp_path):
    header = "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\n"
    orgs = (header
            + 'd1,,,"District\nwith a line break",district,,\n'
            + "\n"
            + "s1,,,School One,bogus,,d1\n")
    drop = validate_package(write_package(tmp_path / "pkg", files=["orgs"], raw={"orgs.csv": orgs}), "oneroster-1.1")
    [finding] = [f for f in drop.report.samples("error") if f.rule == "value.enum"]
    assert (finding.file, finding.line, finding.column, finding.value) == ("orgs.csv", 5, "type", "bogus")
