"""The portal's Content Security Policy."""

from csp.middleware import CSPMiddleware


class PortalContentSecurityPolicy(CSPMiddleware):
    """django-csp's middleware, for /portal/ only: customers' pages are the ones exposed to
    content written by strangers, while the desk and the admin still use inline handlers."""

    def process_response(self, request, response):
        if not request.path_info.startswith("/portal/"):
            return response
        return super().process_response(request, response)
