"""QR posters of a pop-up, or of one of its placements, downloaded from the dashboard."""

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from django.views import generic

from integrations.social.posters import (
    POSTER_FORMATS,
    POSTER_LAYOUTS,
    poster_filename,
    poster_get,
    poster_url,
)
from popup.core.selectors import popup_storefront
from popup.models import Placement, PopUp


class PosterView(generic.View):
    """GET <pk>/poster.<png|pdf>?size=a4|square[&placement=<pk>]: the poster as a download."""

    def get(self, request, pk, fmt: str):
        popup = get_object_or_404(PopUp.objects.select_related("range"), pk=pk)
        size = request.GET.get("size", "a4")
        if size not in POSTER_LAYOUTS:
            return HttpResponseBadRequest(
                "Unknown poster size: use size=a4 or size=square.",
                content_type="text/plain; charset=utf-8",
            )
        placement = _placement_or_404(popup=popup, pk=request.GET.get("placement", ""))
        poster = poster_get(
            popup=popup,
            url=poster_url(request=request, popup=popup, placement=placement),
            size=size,
            fmt=fmt,
            placement=placement,
            storefront=popup_storefront(popup=popup, strategy=request.strategy),
        )
        filename = poster_filename(popup=popup, size=size, fmt=fmt, placement=placement)
        response = HttpResponse(poster, content_type=POSTER_FORMATS[fmt])
        response["Content-Disposition"] = content_disposition_header(True, filename)
        response["Cache-Control"] = "private, no-cache"
        return response


def _placement_or_404(*, popup: PopUp, pk: str) -> Placement | None:
    """The pop-up's placement with this pk; None when none is asked for, 404 for anything else."""
    if not pk:
        return None
    if not pk.isdecimal():
        raise Http404("No such placement.")
    return get_object_or_404(Placement, pk=int(pk), popup=popup)
