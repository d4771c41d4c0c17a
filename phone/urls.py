from django.urls import path

from phone import views, wizard

app_name = "phone"

urlpatterns = [
    path("cti/", views.cti_event, name="cti"),
    path("calls/", views.call_list, name="calls"),
    path("calls/new/", views.call_new, name="call_new"),
    path("calls/<int:call_id>/card/", views.call_card, name="call_card"),
    path("intake/", wizard.wizard, name="intake"),
    path("intake/start/", views.intake_start, name="intake_start"),
    path("intake/<slug:step>/", wizard.step_page, name="intake_step"),
]
