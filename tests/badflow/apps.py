from django.apps import AppConfig


class BadflowConfig(AppConfig):
    name = "tests.badflow"
    label = "badflow"
