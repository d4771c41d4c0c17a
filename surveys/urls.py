from django.urls import path

from surveys import views

app_name = "surveys"

urlpatterns = [
    path("s/<str:token>/", views.answer, name="answer"),
    path("disposition/<str:number>/", views.disposition, name="disposition"),
]
