"""`{% once_field %}`: the hidden one-time key of a form that moves money or state (see
scf_platform.idempotency). A form drawn again (with its errors) keeps the key it was sent with."""

from django import template
from django.utils.html import format_html

from scf_platform.idempotency import ONCE_FIELD, once_key_carried, once_key_mint

register = template.Library()


@register.simple_tag(takes_context=True)
def once_field(context) -> str:
    request = context["request"]
    key = once_key_carried(request) or once_key_mint()
    return format_html('<input type="hidden" name="{}" value="{}">', ONCE_FIELD, key)
