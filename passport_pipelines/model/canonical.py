"""The canonical roster model, aligned with OneRoster 1.2.

These pandera ``DataFrameModel`` classes are the single definition of the model: the SQL
models in ``dbt_like_transforms/`` must produce exactly these columns, the golden store's
tables are generated from them, and the exports read them back. Text is kept as text
(ISO dates included: ``YYYY-MM-DD``), flags as nullable booleans, lists as comma-joined
text in OneRoster's own list-cell convention.
"""

from __future__ import annotations

from typing import Annotated

import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

# Arrow-backed text: pandera then checks the column's dtype once instead of testing every
# value with isinstance(), which is what makes plain ``str`` slow on millions of rows.
Text = Annotated[pd.StringDtype, "pyarrow", pd.NA]

ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
ISO_TIMESTAMP = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$"


class CanonicalRecord(pa.DataFrameModel):
    """Columns every canonical row carries: where it came from and what it contains."""

    sourced_id: Series[Text] = pa.Field(nullable=False, str_length={"min_value": 1, "max_value": 255})
    source: Series[Text] = pa.Field(nullable=False, description="name of the integration source")
    district: Series[Text] = pa.Field(nullable=False)
    school_year: Series[Text] = pa.Field(nullable=False, str_matches=r"^\d{4}-\d{4}$")
    status: Series[Text] = pa.Field(isin=["active", "tobedeleted"], nullable=False)
    date_last_modified: Series[Text] = pa.Field(nullable=True, str_matches=ISO_TIMESTAMP)
    extensions: Series[Text] = pa.Field(nullable=True, description="metadata.* columns as a JSON object")
    content_hash: Series[Text] = pa.Field(nullable=False, str_length={"min_value": 32, "max_value": 32})

    class Config:
        strict = True
        coerce = False


class Orgs(CanonicalRecord):
    """Districts, schools and other organizations."""

    name: Series[Text] = pa.Field(nullable=False)
    type: Series[Text] = pa.Field(
        isin=["department", "school", "district", "local", "state", "national"], nullable=False
    )
    identifier: Series[Text] = pa.Field(nullable=True, description="e.g. the NCES id")
    parent_sourced_id: Series[Text] = pa.Field(nullable=True)


class AcademicSessions(CanonicalRecord):
    """School years, terms, semesters and grading periods."""

    title: Series[Text] = pa.Field(nullable=False)
    type: Series[Text] = pa.Field(isin=["gradingPeriod", "semester", "schoolYear", "term"], nullable=False)
    start_date: Series[Text] = pa.Field(nullable=False, str_matches=ISO_DATE)
    end_date: Series[Text] = pa.Field(nullable=False, str_matches=ISO_DATE)
    parent_sourced_id: Series[Text] = pa.Field(nullable=True)
    ending_year: Series[Text] = pa.Field(nullable=False, str_matches=r"^\d{4}$", description="OneRoster schoolYear")


class Courses(CanonicalRecord):
    title: Series[Text] = pa.Field(nullable=False)
    course_code: Series[Text] = pa.Field(nullable=True)
    grades: Series[Text] = pa.Field(nullable=True)
    org_sourced_id: Series[Text] = pa.Field(nullable=False)
    school_year_sourced_id: Series[Text] = pa.Field(nullable=True)
    subjects: Series[Text] = pa.Field(nullable=True)
    subject_codes: Series[Text] = pa.Field(nullable=True)


class Classes(CanonicalRecord):
    """Class sections."""

    title: Series[Text] = pa.Field(nullable=False)
    grades: Series[Text] = pa.Field(nullable=True)
    course_sourced_id: Series[Text] = pa.Field(nullable=False)
    class_code: Series[Text] = pa.Field(nullable=True)
    class_type: Series[Text] = pa.Field(isin=["homeroom", "scheduled"], nullable=False)
    location: Series[Text] = pa.Field(nullable=True)
    school_sourced_id: Series[Text] = pa.Field(nullable=False)
    term_sourced_ids: Series[Text] = pa.Field(nullable=False)
    subjects: Series[Text] = pa.Field(nullable=True)
    subject_codes: Series[Text] = pa.Field(nullable=True)
    periods: Series[Text] = pa.Field(nullable=True)


class Users(CanonicalRecord):
    """One row per person. Passwords are never part of the model."""

    enabled_user: Series[pd.BooleanDtype] = pa.Field(nullable=False)
    role: Series[Text] = pa.Field(
        isin=[
            "administrator", "aide", "guardian", "parent", "proctor", "relative", "student", "teacher",
            "counselor", "districtAdministrator", "principal", "siteAdministrator", "systemAdministrator",
        ],
        nullable=False,
        description="the person's primary role",
    )
    org_sourced_ids: Series[Text] = pa.Field(nullable=True)
    username: Series[Text] = pa.Field(nullable=True)
    user_ids: Series[Text] = pa.Field(nullable=True, description="{type:id} list")
    given_name: Series[Text] = pa.Field(nullable=False)
    family_name: Series[Text] = pa.Field(nullable=False)
    middle_name: Series[Text] = pa.Field(nullable=True)
    preferred_given_name: Series[Text] = pa.Field(nullable=True)
    preferred_family_name: Series[Text] = pa.Field(nullable=True)
    identifier: Series[Text] = pa.Field(nullable=True, description="local / student number")
    state_id: Series[Text] = pa.Field(nullable=True)
    email: Series[Text] = pa.Field(nullable=True)
    sms: Series[Text] = pa.Field(nullable=True)
    phone: Series[Text] = pa.Field(nullable=True)
    grades: Series[Text] = pa.Field(nullable=True)


class Roles(CanonicalRecord):
    """Which role a person holds at which org (OneRoster 1.2 roles; derived in 1.1)."""

    user_sourced_id: Series[Text] = pa.Field(nullable=False)
    role: Series[Text] = pa.Field(nullable=False)
    role_type: Series[Text] = pa.Field(isin=["primary", "secondary"], nullable=False)
    org_sourced_id: Series[Text] = pa.Field(nullable=False)
    begin_date: Series[Text] = pa.Field(nullable=True, str_matches=ISO_DATE)
    end_date: Series[Text] = pa.Field(nullable=True, str_matches=ISO_DATE)


class Enrollments(CanonicalRecord):
    class_sourced_id: Series[Text] = pa.Field(nullable=False)
    school_sourced_id: Series[Text] = pa.Field(nullable=False)
    user_sourced_id: Series[Text] = pa.Field(nullable=False)
    role: Series[Text] = pa.Field(isin=["administrator", "proctor", "student", "teacher"], nullable=False)
    primary: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    begin_date: Series[Text] = pa.Field(nullable=True, str_matches=ISO_DATE)
    end_date: Series[Text] = pa.Field(nullable=True, str_matches=ISO_DATE)


class Demographics(CanonicalRecord):
    """Keyed by the person's sourced id."""

    birth_date: Series[Text] = pa.Field(nullable=True, str_matches=ISO_DATE)
    sex: Series[Text] = pa.Field(nullable=True, isin=["male", "female", "unspecified", "other"])
    american_indian_or_alaska_native: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    asian: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    black_or_african_american: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    native_hawaiian_or_other_pacific_islander: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    white: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    two_or_more_races: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    hispanic_or_latino_ethnicity: Series[pd.BooleanDtype] = pa.Field(nullable=True)
    country_of_birth_code: Series[Text] = pa.Field(nullable=True)
    state_of_birth_abbreviation: Series[Text] = pa.Field(nullable=True)
    city_of_birth: Series[Text] = pa.Field(nullable=True)
    public_school_residence_status: Series[Text] = pa.Field(nullable=True)


class Agents(CanonicalRecord):
    """Student ↔ guardian relationships; ``relationship`` is the agent's role."""

    user_sourced_id: Series[Text] = pa.Field(nullable=False)
    agent_sourced_id: Series[Text] = pa.Field(nullable=False)
    relationship: Series[Text] = pa.Field(nullable=False)


# --- Gradebook and resources (OneRoster 1.1 / 1.2 gradebook and resources services) ---------------------
# Scores and bounds stay text as the source wrote them (validated as numbers); results are student data.

SCORE_STATUSES = ["exempt", "fully graded", "not submitted", "partially graded", "submitted"]


class Categories(CanonicalRecord):
    """Gradebook categories a line item belongs to (homework, tests...)."""

    title: Series[Text] = pa.Field(nullable=False)
    weight: Series[Text] = pa.Field(nullable=True, description="1.2: the category's weight")


class LineItems(CanonicalRecord):
    """Gradebook columns: an assignment or assessment of a class."""

    title: Series[Text] = pa.Field(nullable=False)
    description: Series[Text] = pa.Field(nullable=True)
    assign_date: Series[Text] = pa.Field(nullable=True, str_matches=ISO_DATE)
    due_date: Series[Text] = pa.Field(nullable=True, str_matches=ISO_DATE)
    class_sourced_id: Series[Text] = pa.Field(nullable=False)
    school_sourced_id: Series[Text] = pa.Field(nullable=True, description="1.2")
    category_sourced_id: Series[Text] = pa.Field(nullable=True)
    grading_period_sourced_id: Series[Text] = pa.Field(
        nullable=True, description="the academic session: 1.1 gradingPeriodSourcedId, 1.2 academicSessionSourcedId")
    result_value_min: Series[Text] = pa.Field(nullable=True)
    result_value_max: Series[Text] = pa.Field(nullable=True)


class Results(CanonicalRecord):
    """A student's score on a line item: student data."""

    line_item_sourced_id: Series[Text] = pa.Field(nullable=False)
    student_sourced_id: Series[Text] = pa.Field(nullable=False)
    class_sourced_id: Series[Text] = pa.Field(nullable=True, description="1.2")
    score_status: Series[Text] = pa.Field(isin=SCORE_STATUSES, nullable=False)
    score: Series[Text] = pa.Field(nullable=True)
    text_score: Series[Text] = pa.Field(nullable=True, description="1.2")
    score_date: Series[Text] = pa.Field(nullable=True, str_matches=ISO_DATE)
    comment: Series[Text] = pa.Field(nullable=True)
    in_progress: Series[pd.BooleanDtype] = pa.Field(nullable=True, description="1.2")
    incomplete: Series[pd.BooleanDtype] = pa.Field(nullable=True, description="1.2")
    late: Series[pd.BooleanDtype] = pa.Field(nullable=True, description="1.2")
    missing: Series[pd.BooleanDtype] = pa.Field(nullable=True, description="1.2")


class ScoreScales(CanonicalRecord):
    """1.2: how scores read (e.g. letter grades), for a class, course or org."""

    title: Series[Text] = pa.Field(nullable=False)
    type: Series[Text] = pa.Field(nullable=True)
    org_sourced_id: Series[Text] = pa.Field(nullable=True)
    course_sourced_id: Series[Text] = pa.Field(nullable=True)
    class_sourced_id: Series[Text] = pa.Field(nullable=True)
    score_scale_value: Series[Text] = pa.Field(nullable=True, description="{itemValueLHS:itemValueRHS} list")


class LineItemScoreScales(CanonicalRecord):
    """1.2: the score scale of a line item."""

    title: Series[Text] = pa.Field(nullable=True)
    line_item_sourced_id: Series[Text] = pa.Field(nullable=False)
    score_scale_sourced_id: Series[Text] = pa.Field(nullable=False)


class ResultScoreScales(CanonicalRecord):
    """1.2: the score scale of a result."""

    title: Series[Text] = pa.Field(nullable=True)
    result_sourced_id: Series[Text] = pa.Field(nullable=False)
    score_scale_sourced_id: Series[Text] = pa.Field(nullable=False)


class LineItemLearningObjectiveIds(CanonicalRecord):
    """1.2: a learning objective a line item assesses (e.g. a CASE id)."""

    line_item_sourced_id: Series[Text] = pa.Field(nullable=False)
    objective_source: Series[Text] = pa.Field(nullable=False, description="the CSV's source column: case | unknown")
    learning_objective_id: Series[Text] = pa.Field(nullable=False)


class ResultLearningObjectiveIds(CanonicalRecord):
    """1.2: a student's result on one learning objective: student data."""

    result_sourced_id: Series[Text] = pa.Field(nullable=False)
    objective_source: Series[Text] = pa.Field(nullable=False, description="the CSV's source column: case | unknown")
    learning_objective_id: Series[Text] = pa.Field(nullable=False)
    score: Series[Text] = pa.Field(nullable=True)
    text_score: Series[Text] = pa.Field(nullable=True)


class Resources(CanonicalRecord):
    """Learning resources (a vendor's content) that classes, courses and users are given."""

    vendor_resource_id: Series[Text] = pa.Field(nullable=False)
    title: Series[Text] = pa.Field(nullable=True)
    roles: Series[Text] = pa.Field(nullable=True, description="the roles it is for, comma-joined")
    importance: Series[Text] = pa.Field(nullable=True, isin=["primary", "secondary"])
    vendor_id: Series[Text] = pa.Field(nullable=True)
    application_id: Series[Text] = pa.Field(nullable=True)


class ClassResources(CanonicalRecord):
    title: Series[Text] = pa.Field(nullable=True)
    class_sourced_id: Series[Text] = pa.Field(nullable=False)
    resource_sourced_id: Series[Text] = pa.Field(nullable=False)


class CourseResources(CanonicalRecord):
    title: Series[Text] = pa.Field(nullable=True)
    course_sourced_id: Series[Text] = pa.Field(nullable=False)
    resource_sourced_id: Series[Text] = pa.Field(nullable=False)


class UserResources(CanonicalRecord):
    """1.2: a resource given to one user (in an org or class)."""

    user_sourced_id: Series[Text] = pa.Field(nullable=False)
    org_sourced_id: Series[Text] = pa.Field(nullable=True)
    class_sourced_id: Series[Text] = pa.Field(nullable=True)
    resource_sourced_id: Series[Text] = pa.Field(nullable=False)
