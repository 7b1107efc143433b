"""The gradebook and resources files of a OneRoster export, per version: each file's canonical table and,
column by column in the binding's order, the canonical column it is written from.

1.1 writes ``categories``, ``lineItems``, ``results``, ``resources``, ``classResources`` and
``courseResources``; 1.2 also the score scales, their links, the learning objective ids and
``userResources``. A line item's session is ``gradingPeriodSourcedId`` in 1.1 and
``academicSessionSourcedId`` in 1.2, where its school (required) is the one it was given, else its
class's (``CLASS_SCHOOL``). A column None is always blank.
"""

from __future__ import annotations

CLASS_SCHOOL = "@class_school"  # lineItems.schoolSourcedId (1.2): the line item's school, else its class's

_COMMON = {"sourcedId": "sourced_id", "status": None, "dateLastModified": None}
_RESOURCES = {**_COMMON, "vendorResourceId": "vendor_resource_id", "title": "title", "roles": "roles",
              "importance": "importance", "vendorId": "vendor_id", "applicationId": "application_id"}
_CLASS_RESOURCES = {**_COMMON, "title": "title", "classSourcedId": "class_sourced_id",
                    "resourceSourcedId": "resource_sourced_id"}
_COURSE_RESOURCES = {**_COMMON, "title": "title", "courseSourcedId": "course_sourced_id",
                     "resourceSourcedId": "resource_sourced_id"}

GRADEBOOK_11: dict[str, tuple[str, dict[str, str | None]]] = {
    "categories": ("categories", {**_COMMON, "title": "title"}),
    "lineItems": ("line_items", {
        **_COMMON, "title": "title", "description": "description", "assignDate": "assign_date", "dueDate": "due_date",
        "classSourcedId": "class_sourced_id", "categorySourcedId": "category_sourced_id",
        "gradingPeriodSourcedId": "grading_period_sourced_id", "resultValueMin": "result_value_min",
        "resultValueMax": "result_value_max",
    }),
    "results": ("results", {
        **_COMMON, "lineItemSourcedId": "line_item_sourced_id", "studentSourcedId": "student_sourced_id",
        "scoreStatus": "score_status", "score": "score", "scoreDate": "score_date", "comment": "comment",
    }),
    "resources": ("resources", _RESOURCES),
    "classResources": ("class_resources", _CLASS_RESOURCES),
    "courseResources": ("course_resources", _COURSE_RESOURCES),
}

GRADEBOOK_12: dict[str, tuple[str, dict[str, str | None]]] = {
    "categories": ("categories", {**_COMMON, "title": "title", "weight": "weight"}),
    "lineItems": ("line_items", {
        **_COMMON, "title": "title", "description": "description", "assignDate": "assign_date", "dueDate": "due_date",
        "classSourcedId": "class_sourced_id", "categorySourcedId": "category_sourced_id",
        "academicSessionSourcedId": "grading_period_sourced_id", "resultValueMin": "result_value_min",
        "resultValueMax": "result_value_max", "schoolSourcedId": CLASS_SCHOOL,
    }),
    "results": ("results", {
        **_COMMON, "lineItemSourcedId": "line_item_sourced_id", "studentSourcedId": "student_sourced_id",
        "scoreStatus": "score_status", "score": "score", "scoreDate": "score_date", "comment": "comment",
        "textScore": "text_score", "classSourcedId": "class_sourced_id", "inProgress": "in_progress",
        "incomplete": "incomplete", "late": "late", "missing": "missing",
    }),
    "resources": ("resources", _RESOURCES),
    "classResources": ("class_resources", _CLASS_RESOURCES),
    "courseResources": ("course_resources", _COURSE_RESOURCES),
    "scoreScales": ("score_scales", {
        **_COMMON, "title": "title", "type": "type", "orgSourcedId": "org_sourced_id",
        "courseSourcedId": "course_sourced_id", "classSourcedId": "class_sourced_id",
        "scoreScaleValue": "score_scale_value",
    }),
    "lineItemScoreScales": ("line_item_score_scales", {
        **_COMMON, "title": "title", "lineItemSourcedId": "line_item_sourced_id",
        "scoreScaleSourcedId": "score_scale_sourced_id"}),
    "resultScoreScales": ("result_score_scales", {
        **_COMMON, "title": "title", "resultSourcedId": "result_sourced_id",
        "scoreScaleSourcedId": "score_scale_sourced_id"}),
    "lineItemLearningObjectiveIds": ("line_item_learning_objective_ids", {
        **_COMMON, "lineItemSourcedId": "line_item_sourced_id", "source": "objective_source",
        "learningObjectiveId": "learning_objective_id"}),
    "resultLearningObjectiveIds": ("result_learning_objective_ids", {
        **_COMMON, "resultSourcedId": "result_sourced_id", "source": "objective_source",
        "learningObjectiveId": "learning_objective_id", "score": "score", "textScore": "text_score"}),
    "userResources": ("user_resources", {
        **_COMMON, "userSourcedId": "user_sourced_id", "orgSourcedId": "org_sourced_id",
        "classSourcedId": "class_sourced_id", "resourceSourcedId": "resource_sourced_id"}),
}

GRADEBOOK_LAYOUTS = {"1.1": GRADEBOOK_11, "1.2": GRADEBOOK_12}


def gradebook_file_entities(version: str) -> dict[str, str]:
    """File -> canonical entity of the gradebook and resources files OneRoster ``version`` has."""
    return {file: entity for file, (entity, _) in GRADEBOOK_LAYOUTS[version].items()}
