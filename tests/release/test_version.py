"""The build's version: where it comes from, and where it shows."""

import subprocess

import pytest

from prime_now.version import describe


def test_the_variable_names_the_version_first(tmp_path, monkeypatch):
    monkeypatch.setenv("BUILD_VERSION", "v9-from-env")
    (tmp_path / "BUILD_VERSION").write_text("v9-from-file\n")
    assert describe(tmp_path) == "v9-from-env"


def test_a_checkout_without_git_reads_the_file_the_release_wrote(tmp_path, monkeypatch):
    monkeypatch.delenv("BUILD_VERSION", raising=False)
    (tmp_path / "BUILD_VERSION").write_text("v9-from-file\n")
    assert describe(tmp_path) == "v9-from-file"


def test_a_git_checkout_is_described_by_git(tmp_path, monkeypatch):
    monkeypatch.delenv("BUILD_VERSION", raising=False)
    git = ["git", "-C", str(tmp_path), "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "one"], check=True)
    subprocess.run([*git, "tag", "v1.2.0"], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "two"], check=True)
    assert describe(tmp_path).startswith("v1.2.0-1-g")


def test_without_git_or_a_file_the_version_is_unknown(tmp_path, monkeypatch):
    monkeypatch.delenv("BUILD_VERSION", raising=False)
    assert describe(tmp_path / "not-a-checkout") == "unknown"


@pytest.mark.django_db
def test_the_admin_footer_shows_the_version(client, settings):
    settings.BUILD_VERSION = "v7-footer"
    response = client.get("/admin/login/")
    assert '<p class="build-version">Prime Now v7-footer</p>' in response.content.decode()
