from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from api import config, people, portal, subscriptions
from api.attachments import download
from api.errors import not_found
from api.views import RequestViewSet

router = SimpleRouter(use_regex_path=False)
router.register("requests", RequestViewSet, basename="request")
router.register("contacts", people.ContactViewSet, basename="contact")
router.register("companies", people.CompanyViewSet, basename="company")
router.register("queues", config.QueueViewSet, basename="queue")
router.register("stages", config.StageViewSet, basename="stage")
router.register("statuses", config.StatusViewSet, basename="status")
router.register("priorities", config.PriorityViewSet, basename="priority")
router.register("categories", config.CategoryViewSet, basename="category")
router.register("tags", config.TagViewSet, basename="tag")
router.register("custom-fields", config.CustomFieldViewSet, basename="custom-field")
router.register("webhooks", subscriptions.SubscriptionViewSet, basename="webhook")
router.register("portal/requests", portal.PortalRequestViewSet, basename="portal-request")
router.register("portal/queues", portal.PortalQueueViewSet, basename="portal-queue")

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("attachments/<int:pk>/", download, name="attachment"),
    path("", include(router.urls)),
    re_path(r"^(?P<path>.*)$", not_found),
]
