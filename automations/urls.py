from django.urls import path

from automations.views import (
    bulk_macro_panel,
    macro_panel,
    rule_list,
    run_macro,
    run_macro_in_bulk,
)

app_name = "automations"
urlpatterns = [
    path("rules/", rule_list, name="rules"),
    path("requests/<str:number>/macros/", macro_panel, name="macro_panel"),
    path("requests/<str:number>/macros/<int:pk>/", run_macro, name="run_macro"),
    path("macros/bulk/", run_macro_in_bulk, name="run_macro_in_bulk"),
    path("macros/bulk/panel/", bulk_macro_panel, name="bulk_macro_panel"),
]
