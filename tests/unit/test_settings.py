import pytest
from pydantic import ValidationError

from graphql_api.settings import Settings


def test_defaults_run_locally_without_any_environment(monkeypatch):
    for name in [n for n in __import__("os").environ if n.startswith("AURASTREAM_")]:
        monkeypatch.delenv(name)
    settings = Settings()
    assert settings.backend == "local"
    assert settings.max_documents_per_request == 100
    assert settings.max_text_bytes == 5_000


def test_environment_variables_override_defaults(monkeypatch):
    monkeypatch.setenv("AURASTREAM_MAX_DOCUMENTS_PER_REQUEST", "7")
    monkeypatch.setenv("AURASTREAM_DATA_DIR", "/tmp/aura")
    settings = Settings()
    assert settings.max_documents_per_request == 7
    assert str(settings.cache_path) == "/tmp/aura/cache.sqlite3"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("AURASTREAM_MAX_DOCUMENTS_PER_REQUEST", "0"), ("AURASTREAM_BACKEND", "gcp")],
)
def test_invalid_configuration_is_refused_at_start(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError):
        Settings()
