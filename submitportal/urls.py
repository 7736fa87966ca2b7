from django.urls import path

from submitportal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("about/", views.about, name="about"),
    path("healthz", views.healthz, name="healthz"),
    path("<slug:organism>/submission/", views.organism_submission, name="organism-submission"),
]
