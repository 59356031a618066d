"""Stored files outlive nothing: they are deleted once the rows that name them are gone."""

from collections.abc import Iterable

from django.db import transaction
from django.db.models.fields.files import FieldFile


def files_delete_on_commit(files: Iterable[FieldFile]) -> None:
    names = [(file.storage, file.name) for file in files if file]
    transaction.on_commit(lambda: [storage.delete(name) for storage, name in names])
