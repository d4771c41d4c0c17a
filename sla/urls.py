from django.urls import path

from sla import views

app_name = "sla"

urlpatterns = [
    path("overdue/", views.overdue_dashboard, name="overdue"),
    path("tickets/<str:number>/consult/", views.consult, name="consult"),
]
