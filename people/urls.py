from django.urls import path

from people import views

app_name = "people"

urlpatterns = [
    path("profile/", views.profile, name="profile"),
    path("absences/", views.absences, name="absences"),
    path("absences/<int:absence_id>/withdraw/", views.withdraw, name="absence-withdraw"),
    path("team/", views.team, name="team"),
    path("team/absences/<int:absence_id>/", views.decide, name="absence-decide"),
]
