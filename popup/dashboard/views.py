from django.views.generic import ListView

from ..models import PopUp


class PopUpListView(ListView):
    model = PopUp
    template_name = "popup/dashboard/popup_list.html"
    context_object_name = "popups"
    paginate_by = 25

    def get_queryset(self):
        return PopUp.objects.select_related("range").order_by("-opens_at")
