"""Errors as part of the API: every failure is JSON ``{"error": id, "message": …, "details": …}``.

Services raise :class:`ApiError` subclasses with a stable ``error_id``; :func:`install_error_handlers`
renders them, FastAPI's validation errors (422) and unknown routes the same way, so no malformed
request ever becomes a 500.
"""

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException


class ApiError(Exception):
    status: int = 400
    error_id: str = "bad-request"

    def __init__(self, message: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}


class NotFound(ApiError):
    status = 404
    error_id = "not-found"


class Conflict(ApiError):
    status = 409
    error_id = "conflict"


class Unauthorized(ApiError):
    status = 401
    error_id = "unauthorized"


class Forbidden(ApiError):
    status = 403
    error_id = "forbidden"


class ServiceUnavailable(ApiError):
    status = 503
    error_id = "unavailable"


def error_body(error_id: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": error_id, "message": message, "details": details or {}}


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(
            error_body(exc.error_id, exc.message, exc.details), status_code=exc.status, headers=headers
        )

    async def validation_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        problems = [{"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]
        summary = "; ".join(f"{p['field']}: {p['problem']}" for p in problems)
        return JSONResponse(error_body("invalid-request", summary, {"errors": problems}), status_code=422)

    async def http_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return JSONResponse(
            error_body(f"http-{exc.status_code}", str(exc.detail)),
            status_code=exc.status_code,
            headers=exc.headers,
        )

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
