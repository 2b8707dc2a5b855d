"""The Content-Security-Policy header on every response: scripts, styles, fonts and images from
the platform's own origin only, no inline script, no plugins, no framing, forms posting only
back to the platform. The portal's pages use static files only (static/js, static/css), so an
injected `<script>` or inline handler is not run. The API's browsable docs (Swagger UI, served
from its CDN with an inline start-up script) get a policy of their own, for that page alone."""

from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            docs = request.path.startswith(settings.CONTENT_SECURITY_POLICY_DOCS_PATH)
            response["Content-Security-Policy"] = (
                settings.CONTENT_SECURITY_POLICY_DOCS if docs else settings.CONTENT_SECURITY_POLICY
            )
        return response
