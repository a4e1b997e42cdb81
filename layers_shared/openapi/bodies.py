"""Request bodies that are parsed by hand (domain/schedule.py reports every
issue at once, which one pydantic model cannot), described here for the
document with the same `Target` model the rules validate."""
from __future__ import annotations

from pydantic import Field

from layers_shared.models.requests import MAX_TARGETS, Strict, Target


class ScheduleBody(Strict):
    scheduledFor: str = Field(
        json_schema_extra={"format": "date-time"},
        description=("ISO 8601 with an offset (a naive time is 422); stored and returned in UTC `Z`. Earlier than "
                     "now - 30 s or more than 365 days ahead is 422 with `details.issues[0].path = \"scheduledFor\"`."))
    targets: list[Target] = Field(min_length=1, max_length=MAX_TARGETS, description=(
        "One per destination; all-or-nothing. The same account twice only with different modes."))


class PublishBody(Strict):
    targets: list[Target] = Field(min_length=1, max_length=MAX_TARGETS,
                                  description="Same target shape as schedule; the time is now.")
