"""One error for every refusal: what cannot be done, in words for the person who asked.

Services raise a Refusal (or one of the job folders' subclasses, which only set the HTTP status);
JSON views answer it with {"error": message, "code": code, ...details} and its status
(popup.http.json.json_view); pages show the message. Nothing a shopper does ends in a 500.
"""


class Refusal(Exception):
    """Why an action cannot go on: `code` for scripts, `message` for people, `status` for HTTP."""

    status = 409

    def __init__(self, message: str, code: str, *, status: int | None = None, **details) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        if status is not None:
            self.status = status
        self.details = details

    def __str__(self) -> str:
        return self.message

    def payload(self) -> dict:
        return {"error": self.message, "code": self.code, **self.details}


class BadRequest(Refusal):
    """The request itself is malformed (not JSON, a field of the wrong type)."""

    status = 400

    def __init__(self, message: str, code: str = "bad_request", **kwargs) -> None:
        super().__init__(message, code, **kwargs)
