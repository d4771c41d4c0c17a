from django.urls import path

from sla import views

app_name = "sla"

urlpatterns = [
    path("overdue/", views.overdue_dashboard, name="overdue"),
    path("tickets/<str:number>/consult/", views.consult, name="consult"),
    path("pools/closing/", views.pool_closing_list, name="pool-closing"),
    path("pools/<int:pool_id>/closing/", views.pool_closing_edit, name="pool-closing-edit"),
]
