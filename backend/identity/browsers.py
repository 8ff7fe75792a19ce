"""A session's user agent in words a person recognises ("Chrome on Android"), never cut mid-word."""

from __future__ import annotations

import re

# Order matters: Edge and Opera also say "Chrome", Chrome also says "Safari".
_BROWSERS = (
    ("Edg/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("FxiOS/", "Firefox"),
    ("CriOS/", "Chrome"),
    ("Chromium/", "Chromium"),
    ("HeadlessChrome/", "Chrome"),
    ("Chrome/", "Chrome"),
    ("Safari/", "Safari"),
)
_SYSTEMS = (
    ("iPhone", "iPhone"),
    ("iPad", "iPad"),
    ("Android", "Android"),
    ("Windows", "Windows"),
    ("Mac OS X", "a Mac"),
    ("Macintosh", "a Mac"),
    ("CrOS", "ChromeOS"),
    ("Linux", "Linux"),
)
_TOOL = re.compile(r"^(curl|python-httpx|python-requests|Wget|PostmanRuntime)/", re.IGNORECASE)


def describe_browser(user_agent: str) -> str:
    """ "Firefox on Windows", "a script (curl)", or "A browser" when nothing is recognisable."""
    agent = user_agent.strip()
    tool = _TOOL.match(agent)
    if tool:
        return f"A script ({tool.group(1)})"
    browser = next((name for marker, name in _BROWSERS if marker in agent), "")
    system = next((name for marker, name in _SYSTEMS if marker in agent), "")
    if browser and system:
        return f"{browser} on {system}"
    return browser or (f"A browser on {system}" if system else "A browser")
