from django.urls import path

from chat.web import api_keys, documents, presets, projects, shares, views, your_data

app_name = "chat"

urlpatterns = [
    path("", views.home, name="home"),
    path("c/<int:conversation_id>/", views.conversation_detail, name="conversation"),
    path("models/", views.models, name="models"),
    path("usage/", views.usage, name="usage"),
    path("settings/check/", views.settings_check, name="settings_check"),
    path(
        "c/<int:conversation_id>/settings/",
        views.conversation_settings_update,
        name="conversation_settings",
    ),
    path("c/<int:conversation_id>/rename/", views.conversation_rename_view, name="rename"),
    path("c/<int:conversation_id>/delete/", views.conversation_delete_view, name="delete"),
    path("c/<int:conversation_id>/pin/", views.conversation_pin_view, name="pin"),
    path("c/<int:conversation_id>/archive/", views.conversation_archive_view, name="archive"),
    path("archived/", views.conversations_archived_view, name="archived"),
    path("presets/", presets.preset_create_view, name="presets"),
    path("projects/", projects.projects, name="projects"),
    path("projects/<int:project_id>/", projects.project_detail, name="project"),
    path("projects/<int:project_id>/delete/", projects.project_delete_view, name="project_delete"),
    path("c/<int:conversation_id>/project/", projects.conversation_move_view, name="move"),
    path("presets/<int:preset_id>/delete/", presets.preset_delete_view, name="preset_delete"),
    path("c/<int:conversation_id>/share/", shares.share_create_view, name="share_create"),
    path("shares/<int:share_id>/revoke/", shares.share_revoke_view, name="share_revoke"),
    path("s/<str:token>/", shares.share_page, name="share"),
    path("s/<str:token>/continue/", shares.share_continue_view, name="share_continue"),
    path(
        "s/<str:token>/images/<int:attachment_id>/",
        shares.share_image_view,
        name="share_image",
    ),
    path("c/<int:conversation_id>/export.<slug:fmt>", views.conversation_export, name="export"),
    path("search/", views.conversation_search_view, name="search"),
    path("settings/api-keys/", api_keys.api_keys, name="api_keys"),
    path("settings/data/", your_data.your_data, name="data"),
    path("settings/data/delete/", your_data.your_data_delete, name="data_delete"),
    path("settings/data/import/", your_data.your_data_import, name="data_import"),
    path(
        "settings/api-keys/<int:key_id>/revoke/",
        api_keys.api_key_revoke_view,
        name="api_key_revoke",
    ),
    path("attachments/", views.attachment_upload, name="attachment_upload"),
    path("attachments/<int:attachment_id>/", views.attachment_detail, name="attachment"),
    path("documents/", documents.document_library, name="documents"),
    path("documents/upload/", documents.document_upload, name="document_upload"),
    path("documents/<int:document_id>/", documents.document_detail, name="document"),
    path(
        "documents/<int:document_id>/delete/",
        documents.document_delete_view,
        name="document_delete",
    ),
]
