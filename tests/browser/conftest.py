"""A live server as production runs it (gunicorn with gunicorn.conf.py) on a free
loopback port, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import dataclasses
import itertools
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reply_archive.archive.store import write_reply
from reply_archive.indexer.build import build_index
from tests.servers import ROOT, Server

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@contextmanager
def serving(archive_dir: Path, index_dir: Path) -> Iterator[str]:
    """Serve an archive with gunicorn and gunicorn.conf.py on a free loopback port, as
    README's Deploying section does; yield its base URL."""
    home = Path(tempfile.mkdtemp(prefix="serving-"))
    shutil.copy(ROOT / "gunicorn.conf.py", home)
    server = Server(home, proxies=0, settings={"REPLY_ARCHIVE_DIR": str(archive_dir),
                                              "REPLY_ARCHIVE_INDEX": str(index_dir)})
    try:
        server.wait_healthy(stale=True)
        yield server.url
    finally:
        server.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def live_server(archive_dir, index_dir):
    """Serve the sample archive for the session."""
    with serving(archive_dir, index_dir) as url:
        yield url


PLACES = ("青溪市", "临江区", "东湖区", "西山区", "南港区", "北塘区", "云岭县", "石门县", "江澜省", "白沙区",
          "清河区", "望江区", "梅林区", "松溪县", "青峰县", "丰泽区", "安平县", "长乐区", "新城区", "鹿鸣县",
          "兰溪县", "桃源区", "金沙区", "凤凰县", "玉泉区")
BUREAUS = ("教育局", "民政局", "财政局", "交通运输局", "生态环境局", "卫生健康委员会", "文化广电旅游体育局",
           "住房和城乡建设局", "市场监督管理局", "应急管理局", "水务局", "农业农村局", "商务局", "司法局",
           "人力资源和社会保障局", "自然资源局", "城市管理局", "科学技术局", "退役军人事务局", "医疗保障局")


@pytest.fixture(scope="session")
def large_server(tmp_path_factory, seed_reply):
    """Serve 500 replies from 500 fictional departments: a facet too long for a sidebar."""
    root = tmp_path_factory.mktemp("large")
    replies = [
        dataclasses.replace(
            seed_reply, id=f"{i:016x}", department=place + bureau, department_raw=place + bureau, sample=True
        )
        for i, (place, bureau) in enumerate(itertools.product(PLACES, BUREAUS))
    ]
    for reply in replies:
        write_reply(reply, root / "archive")
    build_index(replies, root / "index")
    with serving(root / "archive", root / "index") as url:
        yield url


@pytest.fixture(scope="session")
def browser():
    """Launch the system Chromium (never a downloaded build)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"browser tests need Chromium at {CHROMIUM}: apt-get install chromium fonts-noto-cjk")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    yield page
    context.close()
    assert not errors, f"the page logged errors: {errors}"


def screenshot(page, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
