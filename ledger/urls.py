"""The ledger's API routes, under /api/v1/ledger/."""

from django.urls import path

from ledger import api

app_name = "ledger"

urlpatterns = [
    path("public-key/", api.PublicKeyView.as_view(), name="public-key"),
    path("checkpoints/", api.CheckpointListView.as_view(), name="checkpoints"),
    path("checkpoints/latest/", api.CheckpointLatestView.as_view(), name="checkpoint-latest"),
    path("entries/<int:index>/", api.EntryView.as_view(), name="entry"),
    path("consistency/", api.ConsistencyView.as_view(), name="consistency"),
]
