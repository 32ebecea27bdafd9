"""Errors as Chatwoot renders them: ``{"error": "..."}`` with the controller's status
(``render_could_not_create_error`` 422, ``RecordNotFound`` 404, ``Pundit`` and token
failures 401; Devise's ``{"errors": [...]}`` when no token is sent at all)."""

from __future__ import annotations

NOT_FOUND = "Resource could not be found"
NOT_AUTHORIZED = "You are not authorized to do this action"
INVALID_TOKEN = "Invalid Access Token"
SIGN_IN = "You need to sign in or sign up before continuing."


class ApiError(Exception):
    def __init__(self, status: int, error: str, **extra) -> None:
        super().__init__(f"{status}: {error}")
        self.status = status
        self.error = error
        self.extra = extra

    def body(self) -> dict:
        if self.extra.get("devise"):
            return {"errors": [self.error]}
        return {"error": self.error, **self.extra}


def not_found() -> ApiError:
    return ApiError(404, NOT_FOUND)


def invalid(message: str) -> ApiError:
    return ApiError(422, message)
