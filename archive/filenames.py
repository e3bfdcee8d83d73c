"""The file names a URL carries: its path's last segment, then the query values (download.jsp?filename=X.pdf)."""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit


def names_in_url(url: str) -> list[str]:
    """Candidate file names of `url`, unquoted, the path's last segment first (may be empty strings)."""
    parts = urlsplit(url)
    names = [unquote(parts.path.rsplit("/", 1)[-1])]
    names += [unquote(value).rsplit("/", 1)[-1] for _, value in parse_qsl(parts.query, keep_blank_values=True)]
    return names
