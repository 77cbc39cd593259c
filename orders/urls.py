from django.urls import path
from rest_framework.routers import SimpleRouter

from . import api

router = SimpleRouter()
router.register("products", api.ProductViewSet, basename="product")
router.register("returns", api.ReturnViewSet, basename="return")

urlpatterns = [
    path("orders/", api.OrderListApi.as_view(), name="order-list"),
    path("orders/<int:order_id>/", api.OrderDetailApi.as_view(), name="order-detail"),
    path("orders/<int:order_id>/cancel/", api.OrderCancelApi.as_view(), name="order-cancel"),
    path("orders/<int:order_id>/events/", api.OrderEventsApi.as_view(), name="order-events"),
    path("orders/<int:order_id>/workflow/", api.OrderWorkflowApi.as_view(), name="order-workflow"),
    path("orders/<int:order_id>/return/", api.OrderReturnApi.as_view(), name="order-return"),
    path("reports/sales/", api.SalesReportApi.as_view(), name="sales-report"),
    path("payments/callback/", api.PaymentCallbackApi.as_view(), name="payment-callback"),
    *router.urls,
]
