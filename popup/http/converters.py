"""URL converters for the plugin's secrets in paths (basket, pledge, review and vote tokens, short
codes): URL-safe base64 characters only, so a NUL byte or any other oddity is a 404, never a query."""


class TokenConverter:
    regex = "[A-Za-z0-9_-]{1,100}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value
