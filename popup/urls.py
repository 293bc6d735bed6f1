from django.urls import path, register_converter

from popup.checkout import views as checkout_views
from popup.core import api, views
from popup.feedback import api as feedback_api
from popup.feedback import views as review_views
from popup.http.converters import TokenConverter
from popup.presales import views as pledge_views

app_name = "popup"

register_converter(TokenConverter, "popup_token")

urlpatterns = [
    path("embed.js", views.embed_loader, name="embed-loader"),
    path("p/<popup_token:code>/", views.short_link, name="short-link"),
    path("ambassador/<popup_token:token>/", views.ambassador_page, name="ambassador"),
    path("p/<popup_token:code>/embed/", views.short_link, {"embed": True}, name="short-link-embed"),
    path("checkout/<popup_token:token>/", checkout_views.checkout_page, name="checkout"),
    path(
        "checkout/<popup_token:token>/pay/", checkout_views.checkout_pay_view, name="checkout-pay"
    ),
    path(
        "checkout/<popup_token:token>/complete/",
        checkout_views.checkout_complete_view,
        name="checkout-complete",
    ),
    path(
        "checkout/<popup_token:token>/pledge/",
        checkout_views.checkout_pledge_view,
        name="checkout-pledge",
    ),
    path(
        "checkout/<popup_token:token>/pledged/",
        checkout_views.checkout_pledged_view,
        name="checkout-pledged",
    ),
    path("checkout/<popup_token:token>/done/", checkout_views.checkout_done, name="checkout-done"),
    path("review/<popup_token:token>/", review_views.review_page, name="review"),
    path("vote/<popup_token:token>/", views.poll_vote_confirm_view, name="poll-vote-confirm"),
    path(
        "review/<popup_token:token>/<int:product_id>/",
        review_views.review_submit_view,
        name="review-submit",
    ),
    path("pledge/<popup_token:token>/", pledge_views.pledge_page, name="pledge"),
    path(
        "pledge/<popup_token:token>/lines/<int:line_id>/",
        pledge_views.pledge_line_view,
        name="pledge-line",
    ),
    path(
        "pledge/<popup_token:token>/cancel/", pledge_views.pledge_cancel_view, name="pledge-cancel"
    ),
    path("pledge/<popup_token:token>/card/", pledge_views.pledge_card_view, name="pledge-card"),
    path(
        "pledge/<popup_token:token>/card/saved/",
        pledge_views.pledge_card_saved_view,
        name="pledge-card-saved",
    ),
    path("pledge/<popup_token:token>/pay/", pledge_views.pledge_pay_view, name="pledge-pay"),
    path(
        "pledge/<popup_token:token>/pay/complete/",
        pledge_views.pledge_pay_complete_view,
        name="pledge-pay-complete",
    ),
    path("<slug:slug>/", views.popup_detail, name="detail"),
    path("<slug:slug>/embed/", views.popup_embed, name="embed"),
    path("<slug:slug>/live/", api.popup_live, name="live"),
    path("<slug:slug>/basket/", api.basket_detail, name="basket"),
    path("<slug:slug>/basket/new/", api.basket_new, name="basket-new"),
    path("<slug:slug>/basket/lines/", api.basket_line, name="basket-line"),
    path("<slug:slug>/basket/attribution/", api.basket_attribution, name="basket-attribution"),
    path("<slug:slug>/waitlist/", feedback_api.waitlist_join_view, name="waitlist"),
    path("<slug:slug>/questions/", feedback_api.question_ask_view, name="questions"),
    path("<slug:slug>/ideas/", feedback_api.idea_post_view, name="ideas"),
    path("<slug:slug>/polls/<int:poll_id>/vote/", feedback_api.poll_vote_view, name="poll-vote"),
    path("<slug:slug>/ideas/<int:idea_id>/vote/", feedback_api.idea_vote_view, name="idea-vote"),
]
