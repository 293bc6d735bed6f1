from django import template

from popup.feedback import selectors

register = template.Library()


@register.simple_tag
def poll_results(poll) -> selectors.PollResults:
    """{% poll_results poll as results %}: the poll's confirmed votes, option by option."""
    return selectors.poll_results(poll=poll)
