"""The tunables: one definition, read from config and environment, documented."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reply_archive.indexer.search import ReplyIndex
from reply_archive.indexer.settings import SETTINGS, SettingError, Settings
from reply_archive.web import create_app, reply_index

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented_with_its_default_and_help(setting):
    name = setting.name.upper()
    row = re.search(rf"^\| `{name}` \| `REPLY_ARCHIVE_{name}` \| (.*?) \| (.+?) \|$", README, re.M)
    assert row, f"README's settings table lacks {name}"
    assert row.group(1) == str(setting.default) and row.group(2) == setting.metadata["help"]


def test_config_wins_over_the_environment_and_both_over_the_defaults():
    environ = {"REPLY_ARCHIVE_QUERY_SECONDS": "2.5", "REPLY_ARCHIVE_POOL_SIZE": "3"}
    settings = Settings.from_mapping({"POOL_SIZE": 4}, environ)
    assert (settings.query_seconds, settings.pool_size, settings.per_page) == (2.5, 4, 20)


@pytest.mark.parametrize("config, environ, named", [
    ({}, {"REPLY_ARCHIVE_PER_PAGE": "many"}, "REPLY_ARCHIVE_PER_PAGE"),
    ({"QUERY_SECONDS": -1}, {}, "QUERY_SECONDS"),
    ({"POOL_SIZE": 2.5}, {}, "POOL_SIZE"),
    ({"PER_PAGE": 500}, {}, "PER_PAGE"),
    ({"MAX_SELECTED": True}, {}, "MAX_SELECTED"),
])
def test_a_bad_value_is_refused_naming_the_setting(config, environ, named):
    with pytest.raises(SettingError, match=named):
        Settings.from_mapping(config, environ)


def test_the_app_searches_with_its_configured_settings(archive_dir, index_dir):
    app = create_app({"TESTING": True, "ARCHIVE_DIR": str(archive_dir), "INDEX_DIR": str(index_dir), "PER_PAGE": 3,
                      "MAX_SELECTED": 1})
    with app.app_context():
        assert isinstance(reply_index(), ReplyIndex) and reply_index().settings.per_page == 3
    client = app.test_client()
    assert len(client.get("/api/search").get_json()["hits"]) == 3
    response = client.get("/api/search?year=2022&year=2023")
    assert response.status_code == 400 and "最多选择 1 个值" in response.get_json()["error"]


def test_folders_default_to_the_users_data_folder_never_the_working_one(tmp_path, monkeypatch):
    from reply_archive.web import config

    for name in (config.ARCHIVE_ENV, config.INDEX_ENV, config.INSTANCE_ENV, config.HOME_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    monkeypatch.chdir(tmp_path)
    assert config.archive_dir() == tmp_path / "xdg" / "reply-archive" / "archive"
    assert config.index_dir() == tmp_path / "xdg" / "reply-archive" / "index"
    monkeypatch.setenv(config.HOME_ENV, "home")  # relative: made absolute at once
    assert config.instance_dir() == tmp_path / "home" / "instance"
    monkeypatch.setenv(config.ARCHIVE_ENV, "mine")
    assert config.archive_dir() == tmp_path / "mine" and config.archive_dir("given") == tmp_path / "given"
