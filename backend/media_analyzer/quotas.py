"""Per-user quotas on what an account can create (settings.CONFIG.quota_<name>), so one
account cannot make the platform store and analyse without bound. Staff are exempt. The
create services call these; the count-then-create is not locked, so two racing requests may
end one over the limit, which is acceptable for a resource bound."""

from django.conf import settings


class QuotaExceeded(Exception):
    """Refused as a 403 `quota_exceeded` in the API's error envelope (api.errors)."""


def quota_check(*, owner, name: str, count, what: str, per: str = "user") -> None:
    """Refuses one more `what` when the `name` quota allows no more than `count()` already made.
    `count` is a callable, so staff skip the query."""
    if getattr(owner, "is_staff", False):
        return
    limit = getattr(settings.CONFIG, f"quota_{name}")
    if count() >= limit:
        raise QuotaExceeded(f"quota reached: at most {limit} {what}{'' if limit == 1 else 's'} per {per}")
