"""The rows of an API list, written to exactly the JSON their serializer writes but without DRF's
per-row, per-field dispatch: a serializer opts in with `list_serializer_class = RowListSerializer`.

For a page of 50 invoices DRF builds the serializer's fields for the request, then for every row
and field follows the field's source, wraps each foreign key in a PKOnlyObject and looks up the
current time zone again: some 2 ms of the invoice list. Here each field becomes one column
function, made once per serializer class, and a page is a loop over the columns.
"""

import operator
from collections.abc import Callable
from datetime import tzinfo
from typing import Any

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.signals import setting_changed
from django.db import models
from django.utils import timezone
from rest_framework import ISO_8601, fields, relations, serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject
from rest_framework.settings import api_settings

# (row, the response's time zone) -> the field's value as DRF writes it; SkipField leaves it out.
Column = Callable[[Any, tzinfo | None], Any]

# DRF's fields that write a value from the value alone, reading no request, parent or context,
# so that one made for the class serves every request. A subclass counts if it changes neither
# how the value is read nor how it is written (MoneyField changes only how it is parsed).
CONTEXT_FREE_FIELDS = (
    fields.BooleanField,
    fields.CharField,
    fields.ChoiceField,
    fields.DateField,
    fields.DateTimeField,
    fields.DecimalField,
    fields.FloatField,
    fields.IntegerField,
    fields.UUIDField,
    relations.PrimaryKeyRelatedField,
)

# A serializer class's readable fields in order, each with its column; None for a field that
# must be the request's own (one outside CONTEXT_FREE_FIELDS).
Columns = list[tuple[str, Column | None]]

_columns: dict[type[serializers.Serializer], Columns | None] = {}


class RowListSerializer(serializers.ListSerializer):
    """`many=True` of a read serializer whose fields are set by its class alone (not by the
    request or by arguments). Writes exactly what ListSerializer would; a child that writes
    itself (its own to_representation or get_fields) or rows that are not its model's
    instances (dicts, say) are left to ListSerializer."""

    def to_representation(self, data):
        rows = data.all() if isinstance(data, models.manager.BaseManager) else data
        rows = list(rows)
        child = type(self.child)
        class_made = class_columns(child)
        if class_made is None or not all(isinstance(row, _model(child)) for row in rows):
            return super().to_representation(rows)
        columns = [
            (name, column or _request_column(self.child.fields[name]))
            for name, column in class_made
        ]
        zone = timezone.get_current_timezone() if settings.USE_TZ else None
        written = []
        for row in rows:
            values = {}
            for name, column in columns:
                # Not contextlib.suppress: entering it for every value would cost a fifth of this.
                try:  # noqa: SIM105
                    values[name] = column(row, zone)
                except SkipField:
                    pass
            written.append(values)
        return written


def _model(serializer_class: type[serializers.Serializer]) -> type[models.Model] | None:
    return getattr(getattr(serializer_class, "Meta", None), "model", None)


def class_columns(serializer_class: type[serializers.Serializer]) -> Columns | None:
    """The columns of the class, made from an instance of it without context, once; None for a
    class that is not a ModelSerializer writing a row from its fields as Serializer does (its
    own to_representation or get_fields): ListSerializer writes its rows."""
    if serializer_class in _columns:
        return _columns[serializer_class]
    model = _model(serializer_class)
    columns = None
    if (
        model is not None
        and _inherits(serializer_class, serializers.Serializer, "to_representation")
        and serializer_class.get_fields is serializers.ModelSerializer.get_fields
    ):
        columns = [
            (field.field_name, _class_column(field, model))
            for field in serializer_class()._readable_fields
        ]
    _columns[serializer_class] = columns
    return columns


def _forget_columns(*, setting: str, **kwargs) -> None:
    # Columns hold REST_FRAMEWORK's formats, which tests override.
    if setting in ("REST_FRAMEWORK", "USE_TZ"):
        _columns.clear()


setting_changed.connect(_forget_columns)


def _request_column(field: fields.Field) -> Column:
    """The field exactly as Serializer.to_representation writes it."""

    def column(row, zone):
        attribute = field.get_attribute(row)
        if attribute is None or (isinstance(attribute, PKOnlyObject) and attribute.pk is None):
            return None
        return field.to_representation(attribute)

    return column


def _class_column(field: fields.Field, model: type[models.Model] | None) -> Column | None:
    base = next((base for base in CONTEXT_FREE_FIELDS if isinstance(field, base)), None)
    if base is None or not _inherits(type(field), base, "get_attribute", "to_representation"):
        return None
    if isinstance(field, relations.PrimaryKeyRelatedField):
        return _related_key_column(field, model)
    read = _reader(field, model)
    if (
        isinstance(field, fields.DateTimeField)
        and _writes_iso(field)
        and _inherits(type(field), fields.DateTimeField, "enforce_timezone", "default_timezone")
    ):
        write_in = _datetime_writer(field)
        return lambda row, zone: None if (value := read(row)) is None else write_in(value, zone)
    write = field.to_representation
    return lambda row, zone: None if (value := read(row)) is None else write(value)


def _model_field(field: fields.Field, model: type[models.Model] | None) -> models.Field | None:
    """The model's concrete field that `field` reads (`source` one name), if there is one."""
    if model is None or len(field.source_attrs) != 1:
        return None
    try:
        model_field = model._meta.get_field(field.source_attrs[0])
    except FieldDoesNotExist:
        return None
    return model_field if model_field.concrete else None


def _reader(field: fields.Field, model: type[models.Model] | None) -> Callable[[Any], Any]:
    """A model column is read straight off the row; anything else (a property, a dotted source)
    the way DRF reads it."""
    model_field = _model_field(field, model)
    if model_field is not None and not model_field.is_relation:
        return operator.attrgetter(model_field.attname)
    return field.get_attribute


def _related_key_column(field: relations.PrimaryKeyRelatedField, model) -> Column | None:
    """PrimaryKeyRelatedField writes the related row's key, which a foreign key holds."""
    model_field = _model_field(field, model)
    if (
        model_field is None
        or not model_field.many_to_one
        or field.pk_field is not None
        or not _inherits(type(field), relations.PrimaryKeyRelatedField, "use_pk_only_optimization")
    ):
        return None
    read = operator.attrgetter(model_field.attname)
    return lambda row, zone: read(row)


def _writes_iso(field: fields.DateTimeField) -> bool:
    output_format = getattr(field, "format", api_settings.DATETIME_FORMAT)
    return output_format is not None and output_format.lower() == ISO_8601


def _datetime_writer(field: fields.DateTimeField) -> Callable[[Any, tzinfo | None], Any]:
    """DateTimeField.to_representation in ISO 8601, with the zone looked up once a page. Naive
    values and USE_TZ off (no zone) are left to the field itself."""
    own_zone = getattr(field, "timezone", None)

    def write(value, zone):
        zone = own_zone if own_zone is not None else zone
        if zone is None or isinstance(value, str) or value.utcoffset() is None:
            return field.to_representation(value)
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:
            return field.to_representation(value)  # which answers the field's own error
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return write


def _inherits(cls: type, base: type, *methods: str) -> bool:
    return all(getattr(cls, method) is getattr(base, method) for method in methods)
