from django.apps import AppConfig


class ConfigviewConfig(AppConfig):
    name = "configview"
    verbose_name = "Configuration"
