app_name = "configview"
urlpatterns: list = []
