import json
import os
import stat
import subprocess
import sys

import pytest

from app import settings
from app.settings import ConfigError

ENV_NAMES = [s.name for s in settings.SETTINGS]


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("PORTICO_INSTANCE_PATH", str(tmp_path / "instance"))
    return tmp_path


def test_development_generates_secrets_once_and_keeps_them_private(clean_env):
    first = settings.load()
    path = clean_env / "instance" / "secrets.json"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert settings.load()["SECRET_KEY"] == first["SECRET_KEY"]
    assert set(json.loads(path.read_text())) == {
        "SECRET_KEY",
        "SECURITY_PASSWORD_SALT",
        "SECURITY_TOTP_SECRETS",
    }
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{clean_env / 'instance' / 'portico.db'}"
    assert first["REDIS_URL"] is None  # embedded Redis


def test_production_refuses_to_start_without_secrets(clean_env, monkeypatch):
    monkeypatch.setenv("PORTICO_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    with pytest.raises(ConfigError, match="SECURITY_PASSWORD_SALT, SECURITY_TOTP_SECRETS"):
        settings.load()
    assert not (clean_env / "instance" / "secrets.json").exists()


def test_production_with_secrets_marks_cookies_secure(clean_env, monkeypatch):
    monkeypatch.setenv("PORTICO_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("SECURITY_PASSWORD_SALT", "s" * 20)
    monkeypatch.setenv("SECURITY_TOTP_SECRETS", "1:abc,2:def")
    monkeypatch.setenv("PORTICO_BASE_URL", "https://portal.example.com/")
    config = settings.load()
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["PORTICO_BASE_URL"] == "https://portal.example.com"
    assert config["SECURITY_TOTP_SECRETS"] == {1: "abc", 2: "def"}


def test_production_needs_the_address_links_start_with(clean_env, monkeypatch):
    monkeypatch.setenv("PORTICO_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "k" * 40)
    monkeypatch.setenv("SECURITY_PASSWORD_SALT", "s" * 20)
    monkeypatch.setenv("SECURITY_TOTP_SECRETS", "1:abc")
    with pytest.raises(ConfigError, match="needs PORTICO_BASE_URL"):
        settings.load()


def test_development_links_default_to_the_local_server(clean_env):
    assert settings.load()["PORTICO_BASE_URL"] == "http://127.0.0.1:5000"


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("PORTICO_BASE_URL", "portal.example.com", r"http\(s\) address"),
        ("PORTICO_BASE_URL", "ftp://portal.example.com", r"http\(s\) address"),
        ("PORTICO_ENV", "staging", "development or production"),
        ("PORTICO_PROXY_HOPS", "two", "whole number"),
        ("PORTICO_TIMEZONE", "Mars/Olympus", "IANA time zone"),
        ("SECURITY_TOTP_SECRETS", "nocolon", "1:some-long-secret"),
    ],
)
def test_bad_values_say_what_to_fix(clean_env, monkeypatch, name, value, message):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError, match=message):
        settings.load()


def test_hosting_style_database_urls_use_psycopg(clean_env, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.internal:5432/portico")
    assert settings.load()["SQLALCHEMY_DATABASE_URI"] == (
        "postgresql+psycopg://u:p@db.internal:5432/portico"
    )


def test_dotenv_file_is_read(clean_env):
    (clean_env / ".env").write_text("PORTICO_TIMEZONE=Europe/Paris\n")
    try:
        assert settings.load()["PORTICO_TIMEZONE"] == "Europe/Paris"
    finally:
        os.environ.pop("PORTICO_TIMEZONE", None)


def test_wsgi_exits_with_one_line_in_production_without_secrets(clean_env):
    env = {
        "PATH": os.environ["PATH"],
        "PORTICO_ENV": "production",
        "PORTICO_INSTANCE_PATH": str(clean_env / "instance"),
    }
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    result = subprocess.run(
        [sys.executable, "-c", "import wsgi"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "portico: configuration error: PORTICO_ENV=production needs SECRET_KEY, "
        "SECURITY_PASSWORD_SALT, SECURITY_TOTP_SECRETS set in the environment "
        "(see README, Configuration)"
    ]


def test_config_command_lists_every_setting(app):
    result = app.test_cli_runner().invoke(args=["config"])
    assert result.exit_code == 0
    for name in ENV_NAMES:
        assert f"`{name}`" in result.output


def test_the_readme_documents_every_setting():
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for setting in settings.SETTINGS:
        assert f"| `{setting.name}` | {setting.default} | {setting.meaning} |" in readme, (
            f"README's configuration table is out of date for {setting.name}: "
            "paste the output of `flask --app wsgi config`"
        )
