"""The message centre, ``/messages/`` (namespace ``inbox``)."""

from django.urls import path

from web.inbox import views

app_name = "inbox"
urlpatterns = [
    path("", views.message_list, name="list"),
    path("<int:pk>/", views.message_detail, name="detail"),
    path("read-all/", views.messages_read_all, name="read_all"),
    path("preferences/", views.notice_preferences, name="preferences"),
]
