import zoneinfo

from django.utils import timezone


class UserTimezoneMiddleware:
    """Show dates in the signed-in agent's own time zone."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tz_name = ""
        user = request.user
        if user.is_authenticated:
            profile = getattr(user, "agent_profile", None)
            tz_name = profile.time_zone if profile else ""
        tz_name = tz_name or request.COOKIES.get("tz", "")
        try:
            timezone.activate(zoneinfo.ZoneInfo(tz_name)) if tz_name else timezone.deactivate()
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.deactivate()
        return self.get_response(request)
