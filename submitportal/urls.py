from django.urls import path

from submitportal import views

urlpatterns = [
    path("", views.home, name="home"),
    path("about/", views.about, name="about"),
    path("healthz", views.healthz, name="healthz"),
    path("auth/signin", views.signin_start, name="signin"),
    path("auth/callback", views.signin_callback, name="signin-callback"),
    path("auth/signout", views.signout, name="signout"),
    path("<slug:organism>/submission/", views.organism_submission, name="organism-submission"),
]
