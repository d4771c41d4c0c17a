from django.urls import path

from reports import views

app_name = "reports"

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("breakdown/", views.breakdown, name="breakdown"),
    path("period/", views.period_report, name="period"),
    path("custom/", views.custom_report, name="custom"),
    path("custom/save/", views.save_custom_report, name="save"),
    path("custom/<int:pk>/", views.saved_report, name="saved"),
    path("custom/<int:pk>/sharing/", views.share_report, name="share"),
    path("custom/<int:pk>/delete/", views.delete_report, name="delete"),
]
