from django.apps import AppConfig


class SubmitPortalConfig(AppConfig):
    name = "submitportal"
    verbose_name = "Submission portal"
