"""RFC 9457 problem details with the contract's stable codes."""

from __future__ import annotations

TITLES = {
    "unauthorized": "Missing or unknown token",
    "forbidden": "Not allowed for this role",
    "read_only": "This token is read-only",
    "not_found": "No such object",
    "owned_by_other": "Another agent has this conversation",
    "stale_version": "The conversation has changed since you read it",
    "order_rule": "An order rule refuses this",
    "already_shipped": "The order has shipped",
    "not_refundable": "This order cannot be refunded now",
    "no_refund_request": "The order has no refund request",
    "opted_out": "The customer opted out of outreach",
    "invalid": "The request body is not valid",
    "idempotency_mismatch": "This Idempotency-Key was used for another request",
    "rate_limited": "Too many requests",
    "server_error": "Server error",
    "unavailable": "Temporarily unavailable",
}


class Problem(Exception):
    """Raised by the shop's logic; the server turns it into problem+json."""

    def __init__(self, status: int, code: str, detail: str = "", *, headers: dict | None = None, **extra) -> None:
        super().__init__(f"{status} {code}: {detail}")
        self.status = status
        self.code = code
        self.detail = detail or TITLES.get(code, code)
        self.headers = headers  # e.g. Retry-After on rate_limited
        self.extra = extra

    def body(self) -> dict:
        return {
            "type": f"https://agentdesk.dev/problems/{self.code}",
            "title": TITLES.get(self.code, self.code),
            "status": self.status,
            "detail": self.detail,
            "code": self.code,
            **self.extra,
        }


def invalid(field: str, message: str) -> Problem:
    return Problem(422, "invalid", f"{field}: {message}", errors=[{"field": field, "message": message}])
