"""Errors as the OneRoster 1.2 REST binding gives them: an ``imsx_StatusInfo`` envelope whose code minor
names the rule that was broken, and the HTTP status that goes with it. Never a stack trace."""

from __future__ import annotations

from starlette.responses import JSONResponse


class ApiError(Exception):
    def __init__(self, status: int, minor: str, description: str, headers: dict | None = None):
        super().__init__(description)
        self.status, self.minor, self.description, self.headers = status, minor, description, headers or {}


def envelope(status: int, minor: str, description: str) -> dict:
    return {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": description,
        "imsx_CodeMinor": {"imsx_codeMinorField": [
            {"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": minor}]},
    }


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(envelope(error.status, error.minor, error.description), status_code=error.status,
                        headers=error.headers)


def unauthorised(description: str) -> ApiError:
    return ApiError(401, "unauthorisedrequest", description, {"WWW-Authenticate": 'Bearer realm="oneroster"'})


def forbidden(description: str) -> ApiError:
    return ApiError(403, "forbidden", description)


def unknown_object(description: str) -> ApiError:
    return ApiError(404, "unknownobject", description)


def invalid(minor: str, description: str) -> ApiError:
    """400: ``invalid_filter_field``, ``invalid_selection_field``, ``invalid_sort_field`` or ``invaliddata``."""
    return ApiError(400, minor, description)
