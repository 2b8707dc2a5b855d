"""The registry of document kinds, and of the subjects documents are about.

A room that owns a subject registers, in its `ready()`, what may be said about it:

- a **subject** (`document_subject_register`): its name as the business events spell it
  (`"request"` in `"request:12"`) and who may see it, so that a route naming the subject answers
  404 to anyone else without documents knowing the subject's table;
- a **kind** (`document_kind_register`): its code, label and number prefix, the subject it is
  about, the business events that issue it, how to draft it from the subject's id (its
  template's context, its language, and the parties who may download it), and which subjects
  are owed one (so that a sweeper can issue late what a lost task never issued).

The registry is a dict keyed by the kind's code; nothing here imports a room above documents.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet
from django.utils.functional import Promise

from scf_platform.models import Organization


class UnknownSubject(ValueError):
    """The subject names nothing a document of this kind can be about."""


class UnknownKind(UnknownSubject):
    """No document kind of that code is registered."""


@dataclass
class Draft:
    """What a document says and to whom: built by its kind's `draft`, rendered by documents.

    `parties` maps each party's role (`"applicant"`, `"buyer"`, ...) to its organization: they,
    and only they, may download the document."""

    kind: str
    subject: str
    language: str
    parties: dict[str, Organization]
    context: dict = field(default_factory=dict)

    @property
    def party_ids(self) -> list[int]:
        return [organization.pk for organization in self.parties.values()]


@dataclass(frozen=True)
class Kind:
    """A kind of document, registered by the room that owns its subject."""

    code: str  # stored on the document; also its template's name, documents/<code>.html
    label: str | Promise
    number_prefix: str  # the document's number: "<prefix>-<subject id, six digits>"
    subject: str  # a registered subject's name
    issued_by: tuple[str, ...]  # the business event kinds that issue it
    draft: Callable[[int], Draft]  # from the subject's id; UnknownSubject if it can have none
    # The subjects (a queryset whose pk is the subject's id) owed this document by `before`.
    owed: Callable[[datetime], QuerySet]
    template: str = ""

    @property
    def template_name(self) -> str:
        return self.template or f"documents/{self.code}.html"


@dataclass(frozen=True)
class Subject:
    name: str
    # Whether the organization may see the subject of this id.
    visible: Callable[[Organization | None, int], bool]


_kinds: dict[str, Kind] = {}
_subjects: dict[str, Subject] = {}


def document_subject_register(name: str, *, visible: Callable[[Organization | None, int], bool]):
    if ":" in name or not name:
        raise ValueError(f"{name!r} cannot name a subject")
    _subjects[name] = Subject(name=name, visible=visible)


def document_kind_register(kind: Kind) -> None:
    """Register a kind (again, harmlessly, when apps are set up twice); its subject first."""
    if kind.subject not in _subjects:
        raise ValueError(f"register the subject {kind.subject!r} before the kind {kind.code!r}")
    registered = _kinds.get(kind.code)
    if registered is not None and registered != kind:
        raise ValueError(f"another document kind {kind.code!r} is registered already")
    _kinds[kind.code] = kind


def document_kind(code: str) -> Kind:
    try:
        return _kinds[code]
    except KeyError:
        raise UnknownKind(f"no document of kind {code!r}") from None


def document_kinds() -> list[Kind]:
    return list(_kinds.values())


def document_kinds_issued_by(event_kind: str) -> list[Kind]:
    return [kind for kind in _kinds.values() if event_kind in kind.issued_by]


def subject_visible(*, organization: Organization | None, subject: str, pk: int) -> bool:
    registered = _subjects.get(subject)
    return (
        registered is not None and organization is not None and registered.visible(organization, pk)
    )


def subject_parse(subject: str, *, kinds: Iterable[str] | None = None) -> tuple[str, int]:
    """`"request:12"` as `("request", 12)`; UnknownSubject for anything else."""
    name, _sep, number = subject.partition(":")
    if name not in _subjects or not number.isdigit() or (kinds is not None and name not in kinds):
        raise UnknownSubject(f"{subject!r} names no subject of a document")
    return name, int(number)
