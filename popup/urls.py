from django.urls import path, register_converter

from popup.channels import views as channel_views
from popup.checkout import views as checkout_views
from popup.core import api, views
from popup.core.languages import in_shopper_language as shopper
from popup.feedback import api as feedback_api
from popup.feedback import views as review_views
from popup.http.converters import TokenConverter
from popup.presales import views as pledge_views
from popup.privacy import views as privacy_views

app_name = "popup"

register_converter(TokenConverter, "popup_token")

# Every page and call of a shopper's answers in their language (popup.core.languages).
urlpatterns = [
    path("embed.js", views.embed_loader, name="embed-loader"),
    path("p/<popup_token:code>/", shopper(views.short_link), name="short-link"),
    path("ambassador/<popup_token:token>/", shopper(views.ambassador_page), name="ambassador"),
    path(
        "p/<popup_token:code>/embed/",
        shopper(views.short_link),
        {"embed": True},
        name="short-link-embed",
    ),
    path("checkout/<popup_token:token>/", shopper(checkout_views.checkout_page), name="checkout"),
    path(
        "checkout/<popup_token:token>/figures/",
        shopper(checkout_views.checkout_figures_view),
        name="checkout-figures",
    ),
    path(
        "checkout/<popup_token:token>/pay/",
        shopper(checkout_views.checkout_pay_view),
        name="checkout-pay",
    ),
    path(
        "checkout/<popup_token:token>/complete/",
        shopper(checkout_views.checkout_complete_view),
        name="checkout-complete",
    ),
    path(
        "checkout/<popup_token:token>/pledge/",
        shopper(checkout_views.checkout_pledge_view),
        name="checkout-pledge",
    ),
    path(
        "checkout/<popup_token:token>/pledged/",
        shopper(checkout_views.checkout_pledged_view),
        name="checkout-pledged",
    ),
    path(
        "checkout/<popup_token:token>/done/",
        shopper(checkout_views.checkout_done),
        name="checkout-done",
    ),
    path("review/<popup_token:token>/", shopper(review_views.review_page), name="review"),
    path(
        "vote/<popup_token:token>/", shopper(views.poll_vote_confirm_view), name="poll-vote-confirm"
    ),
    path(
        "consent/<popup_token:token>/",
        shopper(privacy_views.consent_confirm_view),
        name="consent-confirm",
    ),
    path(
        "consent/<popup_token:token>/stop/",
        shopper(privacy_views.consent_stop_view),
        name="consent-stop",
    ),
    path(
        "review/<popup_token:token>/<int:product_id>/",
        shopper(review_views.review_submit_view),
        name="review-submit",
    ),
    path("pledge/<popup_token:token>/", shopper(pledge_views.pledge_page), name="pledge"),
    path(
        "pledge/<popup_token:token>/lines/<int:line_id>/",
        shopper(pledge_views.pledge_line_view),
        name="pledge-line",
    ),
    path(
        "pledge/<popup_token:token>/cancel/",
        shopper(pledge_views.pledge_cancel_view),
        name="pledge-cancel",
    ),
    path(
        "pledge/<popup_token:token>/card/",
        shopper(pledge_views.pledge_card_view),
        name="pledge-card",
    ),
    path(
        "pledge/<popup_token:token>/card/saved/",
        shopper(pledge_views.pledge_card_saved_view),
        name="pledge-card-saved",
    ),
    path(
        "pledge/<popup_token:token>/pay/", shopper(pledge_views.pledge_pay_view), name="pledge-pay"
    ),
    path(
        "pledge/<popup_token:token>/pay/complete/",
        shopper(pledge_views.pledge_pay_complete_view),
        name="pledge-pay-complete",
    ),
    # Before the pop-ups' slugs: a fixed path, so "withdrawal" is a reserved slug (reserved_slugs).
    path("withdrawal/", shopper(checkout_views.withdrawal_page), name="withdrawal"),
    # Where Facebook and Instagram shops (and Google) send buyers: also a reserved slug.
    path("checkout-link/", shopper(channel_views.checkout_link_page), name="checkout-link"),
    path("<slug:slug>/", shopper(views.popup_detail), name="detail"),
    path("<slug:slug>/embed/", shopper(views.popup_embed), name="embed"),
    path("<slug:slug>/live/", shopper(api.popup_live), name="live"),
    path("<slug:slug>/basket/", shopper(api.basket_detail), name="basket"),
    path("<slug:slug>/basket/new/", shopper(api.basket_new), name="basket-new"),
    path("<slug:slug>/basket/lines/", shopper(api.basket_line), name="basket-line"),
    path(
        "<slug:slug>/basket/attribution/",
        shopper(api.basket_attribution),
        name="basket-attribution",
    ),
    path("<slug:slug>/basket/time/", shopper(api.basket_more_time), name="basket-more-time"),
    path("<slug:slug>/waitlist/", shopper(feedback_api.waitlist_join_view), name="waitlist"),
    path("<slug:slug>/questions/", shopper(feedback_api.question_ask_view), name="questions"),
    path("<slug:slug>/ideas/", shopper(feedback_api.idea_post_view), name="ideas"),
    path(
        "<slug:slug>/polls/<int:poll_id>/vote/",
        shopper(feedback_api.poll_vote_view),
        name="poll-vote",
    ),
    path(
        "<slug:slug>/ideas/<int:idea_id>/vote/",
        shopper(feedback_api.idea_vote_view),
        name="idea-vote",
    ),
]
