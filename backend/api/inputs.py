"""Input serializers raise here, in the view layer, so services get clean values."""

from rest_framework.serializers import Serializer


def validated(serializer_class: type[Serializer], data, **kwargs) -> dict:
    serializer = serializer_class(data=data, **kwargs)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
