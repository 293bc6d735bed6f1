app_name = "popup-social"

urlpatterns: list = []
