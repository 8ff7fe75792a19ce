"""A Google Calendar API v3 stand-in on 127.0.0.1 (read-only: the primary calendar's events).

``GET /calendar/v3/calendars/{primary|email}/events`` with Bearer auth, Google's wire format and
Google's rules, strict where that helps tests:

* ``timeMin`` / ``timeMax`` must be RFC 3339 *with* an offset (``Z`` or ``±hh:mm``; a ``+`` left
  unencoded in the query arrives as a space and is a 400, as at Google). An event is listed when
  ``end > timeMin`` and ``start < timeMax`` (both bounds exclusive, as documented); all-day
  events span their dates (end date exclusive) in the calendar's time zone.
* ``orderBy=startTime`` needs ``singleEvents=true`` (else 400). There are no recurring events
  here, so ``singleEvents`` changes nothing else. ``maxResults`` defaults to 250, capped at 2500.
* ``nextPageToken`` is *absent* on the last page (Google omits it; it is never null). Page
  tokens are opaque and only valid with the same query.
* Cancelled events are listed only with ``showDeleted=true`` (Google's rule for singleEvents).
* ``attendees`` is absent on events without guests; a declined event lists the calendar owner
  with ``"self": true, "responseStatus": "declined"``.
* Tokens: ``issue_token(email)`` mints one directly; ``trust_tokens_from(google)`` accepts access
  tokens issued by a ``GoogleStandIn`` (``tests/support/idp_google.py``), which already serves
  the OAuth side of connecting Calendar: the ``calendar.readonly`` scope, ``access_type=offline``
  refresh tokens, ``/token`` (refresh, no rotation, as Google) and ``/revoke``. A token without
  ``calendar.readonly`` (or ``calendar``) gets 403 ``insufficientPermissions``.

Errors have Google's shape ``{"error": {"code", "message", "errors": [{"domain", "reason",
"message"}], "status"}}``.
"""

from __future__ import annotations

import copy
import re
import secrets
import string
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from tests.support.idp_common import Request, Response
from tests.support.idp_google import CALENDAR_SCOPE, GoogleStandIn
from tests.support.todoist_standin import ApiError, ApiStandIn

CALENDAR_SCOPES = frozenset({CALENDAR_SCOPE, "https://www.googleapis.com/auth/calendar"})
_RFC3339 = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:\d\d)")
_EVENT_ID_ALPHABET = string.ascii_lowercase + string.digits


def _zone(name: str) -> tzinfo:
    return UTC if name == "UTC" else ZoneInfo(name)


def google_time(moment: datetime) -> str:
    """RFC 3339 as Google writes ``created`` / ``updated``: UTC, milliseconds, ``Z``."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def _date_time(moment: datetime) -> str:
    """An event's ``dateTime``: its own offset, ``Z`` for UTC, no fractions."""
    text = moment.replace(microsecond=0).isoformat()
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


def _gerror(status: int, reason: str, message: str, status_text: str) -> ApiError:
    body = {
        "error": {
            "code": status,
            "message": message,
            "errors": [{"message": message, "domain": "global", "reason": reason}],
            "status": status_text,
        }
    }
    headers = []
    if status == 401:
        headers.append(
            (
                "WWW-Authenticate",
                'Bearer realm="https://accounts.google.com/", error="invalid_token"',
            )
        )
    return ApiError(status, body, headers)


def _bad_request(message: str = "Bad Request", reason: str = "badRequest") -> ApiError:
    return _gerror(400, reason, message, "INVALID_ARGUMENT")


@dataclass
class CalendarAccount:
    """A Google account's primary calendar."""

    email: str
    time_zone: str = "UTC"
    events: list[dict[str, Any]] = field(default_factory=list)  # live event dicts


@dataclass
class CalendarToken:
    access_token: str
    email: str
    scope: str
    expires_at: float
    revoked: bool = False


class GoogleCalendarStandIn(ApiStandIn):
    """Calendar v3 events stand-in. See the module docstring for behaviour.

    Knobs (reset between tests): ``add_user``, ``add_event``, ``issue_token``,
    ``expire_access_token``, ``fail_next``. Records: ``requests``. Survives reset: the URL and
    the Google stand-ins trusted with ``trust_tokens_from``.
    """

    kid_prefix = "gcal"
    fail_prefix = "/calendar/v3/"

    def __init__(self, host_name: str = "127.0.0.1") -> None:
        self._trusted: list[GoogleStandIn] = []
        super().__init__(host_name)
        self.add_route(
            "GET", r"/calendar/v3/calendars/(?P<calendar_id>[^/]+)/events", self._list_events
        )
        self.add_route(
            "GET",
            r"/calendar/v3/calendars/(?P<calendar_id>[^/]+)/events/(?P<event_id>[^/]+)",
            self._get_event,
        )

    def reset(self) -> None:
        """Forget accounts, events, own tokens, logs and knobs; keep URL and trusted issuers."""
        super().reset()
        self.accounts: dict[str, CalendarAccount] = {}
        self.own_tokens: list[CalendarToken] = []
        self.expired: set[str] = set()

    def env(self) -> dict[str, str]:
        """Environment variables of an app wired to this stand-in (OAuth: the Google IdP's)."""
        return {"GOOGLE_CALENDAR_API_URL": f"{self.url}/calendar/v3"}

    # ----------------------------------------------------------------- accounts, events, tokens

    def trust_tokens_from(self, google: GoogleStandIn) -> None:
        """Accept access tokens issued by this Google stand-in (looked up live, per request)."""
        if google not in self._trusted:
            self._trusted.append(google)

    def add_user(self, email: str, time_zone: str = "UTC") -> CalendarAccount:
        """The calendar of ``email`` (created on first use)."""
        if email not in self.accounts:
            _zone(time_zone)  # fail early on a bad zone name
            self.accounts[email] = CalendarAccount(email, time_zone)
        return self.accounts[email]

    def account(self, who: CalendarAccount | str) -> CalendarAccount:
        return who if isinstance(who, CalendarAccount) else self.add_user(who)

    def issue_token(
        self, account: CalendarAccount | str, scope: str = CALENDAR_SCOPE, ttl: int = 3599
    ) -> str:
        """An access token for ``account`` without any OAuth flow."""
        acct = self.account(account)
        value = "ya29.cal-" + secrets.token_urlsafe(40)
        self.own_tokens.append(CalendarToken(value, acct.email, scope, time.time() + ttl))
        return value

    def expire_access_token(self, access_token: str) -> None:
        """The next call with this token answers 401 (own tokens and trusted Google ones)."""
        self.expired.add(access_token)

    def add_event(
        self,
        account: CalendarAccount | str,
        summary: str,
        start: datetime | date,
        end: datetime | date | None = None,
        all_day: bool = False,
        declined: bool = False,
        attendees: Iterable[str] = (),
        status: str = "confirmed",
        time_zone: str | None = None,
        organizer: str | None = None,
    ) -> dict[str, Any]:
        """An event on the primary calendar (its live dict).

        Timed: aware datetimes (naive ones are in ``time_zone``, default the calendar's); no
        ``end`` → one hour. All-day: dates (datetimes are cut to their date); ``end`` is
        exclusive as at Google, no ``end`` → one day. ``declined``: someone else organises and
        the owner declined. ``attendees``: other guests' e-mails (the owner is listed too).
        """
        acct = self.account(account)
        if status not in ("confirmed", "tentative", "cancelled"):
            raise ValueError(f"bad status {status!r}")
        zone_name = time_zone or acct.time_zone
        if all_day:
            first = start.date() if isinstance(start, datetime) else start
            last = end.date() if isinstance(end, datetime) else end
            last = last if last and last > first else first + timedelta(days=1)
            start_obj: dict[str, str] = {"date": first.isoformat()}
            end_obj: dict[str, str] = {"date": last.isoformat()}
        else:
            if not isinstance(start, datetime) or (
                end is not None and not isinstance(end, datetime)
            ):
                raise TypeError("a timed event needs datetimes (or all_day=True)")
            zone = _zone(zone_name)
            begin = start if start.tzinfo else start.replace(tzinfo=zone)
            finish = end if end is not None else begin + timedelta(hours=1)
            finish = finish if finish.tzinfo else finish.replace(tzinfo=zone)
            start_obj = {"dateTime": _date_time(begin.astimezone(zone)), "timeZone": zone_name}
            end_obj = {"dateTime": _date_time(finish.astimezone(zone)), "timeZone": zone_name}
        now = google_time(datetime.now(UTC))
        event_id = "".join(secrets.choice(_EVENT_ID_ALPHABET) for _ in range(26))
        host = organizer or ("organizer@example.com" if declined else acct.email)
        event: dict[str, Any] = {
            "kind": "calendar#event",
            "etag": f'"{time.time_ns() // 1000}"',
            "id": event_id,
            "status": status,
            "htmlLink": f"https://www.google.com/calendar/event?eid={event_id}",
            "created": now,
            "updated": now,
            "summary": summary,
            "creator": {"email": host, **({"self": True} if host == acct.email else {})},
            "organizer": {"email": host, **({"self": True} if host == acct.email else {})},
            "start": start_obj,
            "end": end_obj,
            "iCalUID": f"{event_id}@google.com",
            "sequence": 0,
            "reminders": {"useDefault": True},
            "eventType": "default",
        }
        guests = [a for a in attendees if a not in (acct.email, host)]
        if declined or guests or host != acct.email:
            people: list[dict[str, Any]] = []
            if host != acct.email:
                people.append({"email": host, "organizer": True, "responseStatus": "accepted"})
            me: dict[str, Any] = {"email": acct.email, "self": True}
            if host == acct.email:
                me["organizer"] = True
            me["responseStatus"] = "declined" if declined else "accepted"
            people.append(me)
            people.extend({"email": g, "responseStatus": "needsAction"} for g in guests)
            event["attendees"] = people
        acct.events.append(event)
        return event

    # ----------------------------------------------------------------- API plumbing

    def failure_response(self, status: int, retry_after: int | None) -> Response:
        if status == 429:
            err = _gerror(429, "rateLimitExceeded", "Rate Limit Exceeded", "RESOURCE_EXHAUSTED")
        elif status == 403:
            err = _gerror(403, "rateLimitExceeded", "Rate Limit Exceeded", "PERMISSION_DENIED")
        elif status == 401:
            err = _gerror(401, "authError", "Invalid Credentials", "UNAUTHENTICATED")
        elif status >= 500:
            err = _gerror(status, "backendError", "Backend Error", "INTERNAL")
        else:
            err = _gerror(status, "injected", "Injected failure", "UNKNOWN")
        if retry_after is not None:
            err.headers.append(("Retry-After", str(retry_after)))
        return err.response()

    def not_found(self, status: int) -> Response:
        return _gerror(status, "notFound", "Not Found", "NOT_FOUND").response()

    def bad_cursor(self) -> ApiError:
        return _bad_request("Invalid Value", "invalid")

    def _token_info(self, value: str) -> tuple[str, str, bool] | None:
        """(email, scope, live) of an access token, own or issued by a trusted Google."""
        for own in self.own_tokens:
            if own.access_token == value:
                live = not own.revoked and time.time() < own.expires_at
                return own.email, own.scope, live and value not in self.expired
        for google in self._trusted:
            tok = google.find_token(value)
            if tok is not None and tok.access_token == value:
                live = not tok.revoked and not tok.is_expired() and value not in self.expired
                return tok.user.email, tok.scope, live
        return None

    def _bearer(self, req: Request) -> str:
        scheme, _, value = req.headers.get("authorization", "").partition(" ")
        return value.strip() if scheme.lower() == "bearer" else ""

    def log_user(self, req: Request) -> str | None:
        info = self._token_info(self._bearer(req))
        return info[0] if info else None

    def _calendar(self, req: Request, calendar_id: str) -> CalendarAccount:
        info = self._token_info(self._bearer(req))
        if info is None or not info[2]:
            raise _gerror(401, "authError", "Invalid Credentials", "UNAUTHENTICATED")
        email, scope, _ = info
        if not CALENDAR_SCOPES & set(scope.split()):
            raise _gerror(
                403,
                "insufficientPermissions",
                "Request had insufficient authentication scopes.",
                "PERMISSION_DENIED",
            )
        if unquote(calendar_id) not in ("primary", email):
            raise _gerror(404, "notFound", "Not Found", "NOT_FOUND")
        return self.add_user(email)

    # ----------------------------------------------------------------- endpoints

    def _bounds(self, event: dict[str, Any], zone: tzinfo) -> tuple[datetime, datetime]:
        def when(value: dict[str, str]) -> datetime:
            if "dateTime" in value:
                return datetime.fromisoformat(value["dateTime"].replace("Z", "+00:00"))
            return datetime.combine(date.fromisoformat(value["date"]), datetime.min.time(), zone)

        return when(event["start"]), when(event["end"])

    def _list_events(self, req: Request, calendar_id: str) -> Response:
        acct = self._calendar(req, calendar_id)
        p = req.params
        single = p.get("singleEvents", "false").lower() == "true"
        order = p.get("orderBy")
        if order not in (None, "startTime", "updated"):
            raise _bad_request("Invalid Value", "invalid")
        if order == "startTime" and not single:
            raise _bad_request("The requested ordering is not available for the particular query.")
        try:
            limit = min(int(p.get("maxResults", "250")), 2500)
        except ValueError:
            limit = 0
        if limit < 1:
            raise _bad_request("Invalid Value", "invalid")

        def bound(name: str) -> datetime | None:
            raw = p.get(name)
            if raw is None:
                return None
            if not _RFC3339.fullmatch(raw):
                raise _bad_request()
            return datetime.fromisoformat(raw.upper().replace("Z", "+00:00"))

        time_min, time_max = bound("timeMin"), bound("timeMax")
        if time_min and time_max and time_min >= time_max:
            raise _bad_request("The specified time range is empty.", "timeRangeEmpty")
        zone = _zone(acct.time_zone)
        show_deleted = p.get("showDeleted", "false").lower() == "true"
        events = []
        for event in acct.events:
            if event["status"] == "cancelled" and not show_deleted:
                continue
            start, end = self._bounds(event, zone)
            if time_min and not end > time_min:
                continue
            if time_max and not start < time_max:
                continue
            events.append(event)
        if order == "startTime":
            events.sort(key=lambda e: self._bounds(e, zone)[0])
        elif order == "updated":
            events.sort(key=lambda e: e["updated"])
        key = tuple(sorted((k, v) for k, v in p.items() if k not in ("pageToken", "maxResults")))
        chunk, nxt = self.page(events, limit, p.get("pageToken"), (acct.email, *key))
        body: dict[str, Any] = {
            "kind": "calendar#events",
            "etag": f'"p{time.time_ns() // 1000}"',
            "summary": acct.email,
            "description": "",
            "updated": google_time(datetime.now(UTC)),
            "timeZone": acct.time_zone,
            "accessRole": "owner",
            "defaultReminders": [{"method": "popup", "minutes": 10}],
        }
        if nxt is not None:
            body["nextPageToken"] = nxt
        body["items"] = copy.deepcopy(chunk)
        return Response.json(body)

    def _get_event(self, req: Request, calendar_id: str, event_id: str) -> Response:
        acct = self._calendar(req, calendar_id)
        for event in acct.events:
            if event["id"] == event_id:
                return Response.json(copy.deepcopy(event))
        raise _gerror(404, "notFound", "Not Found", "NOT_FOUND")
