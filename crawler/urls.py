"""Pure URL canonicalisation and crawler-trap rules."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

SESSION_KEYS = {"jsessionid", "phpsessid", "aspsessionid", "cfid", "cftoken"}
# Ambiguous names: gkmlpt's `sid` is a site id (e.g. 758019); only a long token is a session.
TOKEN_KEYS = {"sid", "sessionid", "session"}
_TOKEN = re.compile(r"^[0-9A-Za-z_-]{16,}$")
_PATH_SESSION = re.compile(r";jsessionid=[^/?#]*", re.IGNORECASE)
MAX_SEGMENTS = 15
MAX_QUERY_CHARS = 512
MAX_REPEATS = 3


def canonicalize(url: str) -> str:
    """One spelling per resource: lower-case scheme and host, no default port, fragment or session id."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    port = parts.port
    netloc = host if port is None or (scheme, port) in (("http", 80), ("https", 443)) else f"{host}:{port}"
    path = _PATH_SESSION.sub("", parts.path) or "/"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if k.lower() not in SESSION_KEYS
        and not k.lower().startswith("aspsessionid")
        and not (k.lower() in TOKEN_KEYS and _TOKEN.match(v))
    ]
    return urlunsplit((scheme, netloc, path, urlencode(query, safe="/:,"), ""))


def trap_reason(url: str) -> str:
    """Why `url` looks like a crawler trap, or "" when it does not."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) > MAX_SEGMENTS:
        return f"more than {MAX_SEGMENTS} path segments"
    run = 1
    for previous, current in zip(segments, segments[1:]):
        run = run + 1 if current == previous else 1
        if run >= MAX_REPEATS:
            return f"path segment {current!r} repeated {run} times"
    if len(parts.query) > MAX_QUERY_CHARS:
        return f"query longer than {MAX_QUERY_CHARS} characters"
    return ""
