"""What every portal page knows: the acting organization, its portal, its navigation."""

from scf_platform.portal import PORTAL_TITLES, navigation_for, portal_of


def portal(request) -> dict:
    acting = getattr(request, "acting", None)
    if acting is None:
        return {"acting": None}
    kind = portal_of(acting.organization) or ("operator" if acting.is_operator else None)
    return {
        "acting": acting,
        "portal_kind": kind,
        "portal_title": PORTAL_TITLES.get(kind, ""),
        "navigation": navigation_for(kind, acting.role),
    }
