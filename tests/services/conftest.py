from tests.api.conftest import catalog  # noqa: F401 - the same demo catalog fixture
