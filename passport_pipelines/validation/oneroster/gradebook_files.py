"""The gradebook and resources files of a OneRoster 1.1 / 1.2 CSV package, column by column.

As in ``spec.py`` (which adds these to each version's files): whether a column is required, the kind
of value it holds, and the file its ids point at. Per the CSV bindings, 1.1 has ``categories``,
``lineItems``, ``results``, ``resources``, ``classResources`` and ``courseResources``; 1.2 adds
``scoreScales``, ``lineItemScoreScales``, ``resultScoreScales``, ``lineItemLearningObjectiveIds``,
``resultLearningObjectiveIds`` and ``userResources``, gives line items their school and calls their
session ``academicSessionSourcedId`` (1.1: ``gradingPeriodSourcedId``), and gives results a text
score, their class and four flags. A line item of a class that is not there, or a result of a line
item or student that is not there, is left out like any row whose reference dangles.
"""

from __future__ import annotations

from passport_pipelines.validation.oneroster.spec import STATUSES, Column, FileSpec

SCORE_STATUSES = ("exempt", "fully graded", "not submitted", "partially graded", "submitted")
IMPORTANCE = ("primary", "secondary")


def _common() -> tuple[Column, ...]:
    return (
        Column("sourcedId", required=True, kind="id"),
        Column("status", kind="enum", values=STATUSES),
        Column("dateLastModified", kind="timestamp"),
    )


def _ref(name: str, target: str, *, required: bool = True, on_dangling: str = "filter") -> Column:
    return Column(name, required=required, kind="id", references=target, on_dangling=on_dangling)


def gradebook_files(version: str) -> list[FileSpec]:
    """The gradebook and resources files of OneRoster ``version`` (1.1 or 1.2)."""
    v12 = version == "1.2"
    line_items = (
        *_common(),
        Column("title", required=True),
        Column("description"),
        Column("assignDate", required=True, kind="date"),
        Column("dueDate", required=True, kind="date"),
        _ref("classSourcedId", "classes"),
        _ref("categorySourcedId", "categories"),
        _ref("academicSessionSourcedId" if v12 else "gradingPeriodSourcedId", "academicSessions"),
        Column("resultValueMin", required=not v12, kind="number"),
        Column("resultValueMax", required=not v12, kind="number"),
    )
    if v12:
        line_items += (_ref("schoolSourcedId", "orgs"),)
    results = (
        *_common(),
        _ref("lineItemSourcedId", "lineItems"),
        _ref("studentSourcedId", "users"),
        Column("scoreStatus", required=True, kind="enum", values=SCORE_STATUSES),
        Column("score", required=not v12, kind="number"),
        Column("scoreDate", required=True, kind="date"),
        Column("comment"),
    )
    if v12:
        results += (
            Column("textScore"),
            _ref("classSourcedId", "classes", required=False, on_dangling="warn"),
            Column("inProgress", kind="boolean"),
            Column("incomplete", kind="boolean"),
            Column("late", kind="boolean"),
            Column("missing", kind="boolean"),
        )
    files = [
        FileSpec("categories", (*_common(), Column("title", required=True),
                                *((Column("weight", kind="number"),) if v12 else ()))),
        FileSpec("lineItems", line_items),
        FileSpec("results", results),
        FileSpec("resources", (
            *_common(),
            Column("vendorResourceId", required=True),
            Column("title"),
            Column("roles", kind="list"),
            Column("importance", kind="enum", values=IMPORTANCE),
            Column("vendorId"),
            Column("applicationId"),
        )),
        FileSpec("classResources", (*_common(), Column("title"), _ref("classSourcedId", "classes"),
                                    _ref("resourceSourcedId", "resources"))),
        FileSpec("courseResources", (*_common(), Column("title"), _ref("courseSourcedId", "courses"),
                                     _ref("resourceSourcedId", "resources"))),
    ]
    if v12:
        files += [
            FileSpec("scoreScales", (
                *_common(),
                Column("title", required=True),
                Column("type", required=True),
                _ref("orgSourcedId", "orgs"),
                _ref("courseSourcedId", "courses"),
                _ref("classSourcedId", "classes"),
                Column("scoreScaleValue", required=True),
            )),
            FileSpec("lineItemScoreScales", (*_common(), Column("title"), _ref("lineItemSourcedId", "lineItems"),
                                             _ref("scoreScaleSourcedId", "scoreScales"))),
            FileSpec("resultScoreScales", (*_common(), Column("title"), _ref("resultSourcedId", "results"),
                                           _ref("scoreScaleSourcedId", "scoreScales"))),
            FileSpec("lineItemLearningObjectiveIds", (
                *_common(), _ref("lineItemSourcedId", "lineItems"), Column("source", required=True),
                Column("learningObjectiveId", required=True))),
            FileSpec("resultLearningObjectiveIds", (
                *_common(), _ref("resultSourcedId", "results"), Column("source", required=True),
                Column("learningObjectiveId", required=True), Column("score", kind="number"), Column("textScore"))),
            FileSpec("userResources", (
                *_common(),
                _ref("userSourcedId", "users"),
                _ref("orgSourcedId", "orgs", required=False, on_dangling="warn"),
                _ref("classSourcedId", "classes", required=False, on_dangling="warn"),
                _ref("resourceSourcedId", "resources"),
            )),
        ]
    return files


# The canonical table each gradebook file's records land in.
GRADEBOOK_FILE_ENTITY = {
    "categories": "categories", "lineItems": "line_items", "results": "results", "scoreScales": "score_scales",
    "lineItemScoreScales": "line_item_score_scales", "resultScoreScales": "result_score_scales",
    "lineItemLearningObjectiveIds": "line_item_learning_objective_ids",
    "resultLearningObjectiveIds": "result_learning_objective_ids", "resources": "resources",
    "classResources": "class_resources", "courseResources": "course_resources", "userResources": "user_resources",
}
