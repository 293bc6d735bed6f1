"""Counters: a pop-up's figures per day, and the rate-limit windows kept without Redis."""

from django.db import models

from popup.models.core import PopUp


class PopUpDayStats(models.Model):
    """A pop-up's first-party funnel for one day: page views, baskets, checkouts, unmet demand.

    Counted without any third-party analytics: popup.analytics.stats counts in Redis during the
    day and a beat task adds the counts here.
    """

    popup = models.ForeignKey(PopUp, on_delete=models.CASCADE, related_name="day_stats")
    day = models.DateField()
    views = models.PositiveIntegerField(default=0)
    embed_views = models.PositiveIntegerField(default=0)
    baskets = models.PositiveIntegerField(default=0)
    checkouts = models.PositiveIntegerField(default=0)
    # Add-to-basket attempts refused because there were not enough units left.
    unmet = models.PositiveIntegerField(default=0)
    # Baskets whose holds lapsed without a checkout (counted when the expired rows are tidied away).
    holds_expired = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["popup", "day"], name="popup_day_stats_once"),
        ]

    def __str__(self) -> str:
        return f"{self.popup_id} on {self.day}"


class RateCounter(models.Model):
    """How often a key (an address, an e-mail) was used in one window, for rate limits in a store
    without Redis: every process and machine counts on the same row (popup.analytics.counters)."""

    key = models.CharField(max_length=255)
    window_start = models.DateTimeField(db_index=True)
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["key", "window_start"], name="popup_rate_counter_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.key}: {self.count} since {self.window_start:%Y-%m-%d %H:%M}"
