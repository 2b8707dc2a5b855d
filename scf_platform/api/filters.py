"""The filter backend of the tenant lists: django-filter's, which is left out when the request
names nothing but the page."""

from django_filters import rest_framework as filters


class ListFilterBackend(filters.DjangoFilterBackend):
    """DjangoFilterBackend, minus the FilterSet when the query string holds only the paginator's
    own parameters (`?page=`, `?page_size=`). A FilterSet given no value for any of its filters
    filters nothing, yet building it and validating its form costs about a millisecond, which
    the most common request of a list (the first page) would pay for nothing.

    Any other parameter, a filter's or not, goes through the FilterSet as before. So does a
    FilterSet with a required filter (absent, it answers 400) or a filtering of its own."""

    def filter_queryset(self, request, queryset, view):
        if _names_only_the_page(request, view) and _filters_only_when_asked(view):
            return queryset
        return super().filter_queryset(request, queryset, view)


def _names_only_the_page(request, view) -> bool:
    paginator = getattr(view, "paginator", None)
    paging = {
        getattr(paginator, "page_query_param", None),
        getattr(paginator, "page_size_query_param", None),
    } - {None}
    return set(request.query_params) <= paging


def _filters_only_when_asked(view) -> bool:
    filterset_class = getattr(view, "filterset_class", None)
    if filterset_class is None:
        # None at all, or the one django-filter makes of `filterset_fields`: optional filters.
        return True
    own = filters.FilterSet
    return (
        filterset_class.filter_queryset is own.filter_queryset
        and filterset_class.qs is own.qs
        and not any(f.extra.get("required") for f in filterset_class.base_filters.values())
    )
