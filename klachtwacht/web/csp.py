"""The Content-Security-Policy of the app's own pages: scripts and styles only from this site (no inline script)."""

from __future__ import annotations

from urllib.parse import urlsplit

__all__ = ["app_policy"]


def app_policy(theme_stylesheet: str) -> str:
    """The app's policy; a theme stylesheet on another https origin is allowed as a style source (and nothing else)."""
    styles = ["'self'"]
    if theme_stylesheet.startswith("https://"):
        parts = urlsplit(theme_stylesheet)
        styles.append(f"https://{parts.netloc}")
    return "; ".join([
        "default-src 'none'",
        "script-src 'self'",
        f"style-src {' '.join(styles)}",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "frame-src 'self'",
        "form-action 'self'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ])
