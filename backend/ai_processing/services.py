"""Writes to brands and their reference images."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction

from ai_processing.models import Brand, BrandReferenceImage
from media_analyzer.files import files_delete_on_commit


def brand_create(*, owner: AbstractBaseUser, name: str, aliases: list[str] | None = None) -> Brand:
    return Brand.objects.create(owner=owner, name=name, aliases=_clean_aliases(aliases or []))


def brand_update(*, brand: Brand, name: str | None = None, aliases: list[str] | None = None) -> Brand:
    if name is not None:
        brand.name = name
    if aliases is not None:
        brand.aliases = _clean_aliases(aliases)
    brand.save(update_fields=["name", "aliases"])
    return brand


@transaction.atomic
def brand_delete(*, brand: Brand) -> None:
    files_delete_on_commit(reference.image for reference in brand.reference_images.all())
    brand.delete()


def brand_reference_image_add(*, brand: Brand, image: UploadedFile) -> BrandReferenceImage:
    """`image` must already be validated as a decodable image (the serializer does it)."""
    return BrandReferenceImage.objects.create(brand=brand, image=image)


def _clean_aliases(aliases: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for alias in aliases:
        alias = alias.strip()
        if alias:
            seen.setdefault(alias.casefold(), alias)
    return list(seen.values())


@transaction.atomic
def brand_reference_image_delete(*, reference: BrandReferenceImage) -> None:
    files_delete_on_commit([reference.image])
    reference.delete()
