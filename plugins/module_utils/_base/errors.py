# This module is private to hippolyte.dynamodb: it is not a public API and may change in any release.
"""Errors the collection raises, and how AWS errors are recognised (by code, never by message text)."""

from __future__ import annotations

from typing import Any


class HippolyteError(Exception):
    """Something went wrong that the user must hear about; the message says what and what to do."""


class InputError(HippolyteError):
    """Bad input, found before anything in AWS changed. Names the field and the fix."""

    def __init__(self, field: str, problem: str, fix: str = "") -> None:
        self.field = field
        self.problem = problem
        self.fix = fix
        super().__init__(f"{field}: {problem}" + (f"; {fix}" if fix else ""))


# Codes of a call the endpoint does not implement (a local stand-in, a partial clone of the API).
# "404" is how a DynamoDB-only endpoint answers another service's JSON call (no such operation path).
UNSUPPORTED_CALL_CODES = ("UnknownOperationException", "UnrecognizedClientException", "InvalidAction",
                          "NotImplemented", "404")


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ("" for anything else); its HTTP status when the answer
    named none (botocore's `Unknown`: a server that does not speak the API at all, such as a DynamoDB
    stand-in asked an STS question)."""
    response: Any = getattr(exc, "response", None)
    if not isinstance(response, dict):
        return ""
    code = str(response.get("Error", {}).get("Code", ""))
    status = response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return str(status) if code in ("", "Unknown") and status else code


def is_error(exc: BaseException, *codes: str) -> bool:
    return error_code(exc) in codes
