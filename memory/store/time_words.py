"""Time expressions resolved against the day a message was written, for lexical search.

"We went camping yesterday", written on 8 May 2023, is also indexed under "(on 7 May 2023)", so a
question that names the day or the month ("When did she go camping in May?") finds it. Only
expressions that name one day are resolved; the rest are left as they are. The phrases and the
output form are those measured on LoCoMo tune (bench/results/turn_recall_*.json, README).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NUMBERS = {"two": 2, "three": 3, "four": 4, "five": 5, "2": 2, "3": 3, "4": 4, "5": 5}
_LAST_WEEKDAY = re.compile(r"\blast (" + "|".join(WEEKDAYS) + r")\b")
_DAYS_AGO = re.compile(r"\b(two|three|four|five|[2-5]) days ago\b")
_LAST_WEEK = re.compile(r"\blast week(?:end)?\b")
_TODAY = re.compile(r"\btoday\b|\bthis (?:morning|week|weekend)\b")


def day_name(day: date) -> str:
    """ "7 May 2023": the form both the index and questions use."""
    return f"{day.day} {day.strftime('%B %Y')}"


def days_meant(text: str, written: date) -> list[date]:
    """The days the time expressions in ``text`` name, in the order of the rules below."""
    low = text.lower()
    days = []
    if "yesterday" in low:
        days.append(written - timedelta(days=1))
    if _LAST_WEEK.search(low):
        days.append(written - timedelta(days=7))
    if match := _LAST_WEEKDAY.search(low):
        back = (written.weekday() - WEEKDAYS.index(match[1])) % 7 or 7
        days.append(written - timedelta(days=back))
    if match := _DAYS_AGO.search(low):
        days.append(written - timedelta(days=_NUMBERS[match[1]]))
    if "last month" in low:
        days.append(written.replace(day=1) - timedelta(days=1))  # a day of that month
    if _TODAY.search(low):
        days.append(written)
    return days


def resolved(text: str, written: date) -> str:
    """The days ``text`` means, as extra index text ("" when it names none)."""
    return " ".join(f"(on {day_name(day)})" for day in days_meant(text, written))
