"""deploy/nginx.conf.template, with Debian's nginx in front of a real server process: pages and
websockets pass through, and an answer streams through it as it is written."""

import asyncio
import json
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.servers import (
    ROOT,
    FakeUpstreamServer,
    free_port,
    site_prepared,
    site_socket,
    start_site,
    stop,
    wait_for_port,
)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def start_nginx(workdir, *, listen: int, site_port: int) -> subprocess.Popen[bytes]:
    example = (ROOT / "deploy" / "nginx.conf.template").read_text()
    example = example.replace("${CHATSITE_UPSTREAM}", f"127.0.0.1:{site_port}")
    example = example.replace("listen 80;", f"listen 127.0.0.1:{listen};")
    example = example.replace("/var/log/nginx/access.log", str(workdir / "access.log"))
    for folder in ("client", "proxy", "fastcgi", "uwsgi", "scgi"):
        (workdir / folder).mkdir()
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""
        pid {workdir}/nginx.pid;
        error_log {workdir}/error.log;
        events {{}}
        http {{
            access_log off;
            client_body_temp_path {workdir}/client;
            proxy_temp_path {workdir}/proxy;
            fastcgi_temp_path {workdir}/fastcgi;
            uwsgi_temp_path {workdir}/uwsgi;
            scgi_temp_path {workdir}/scgi;
            {example}
        }}
        """
    )
    process = subprocess.Popen([NGINX, "-c", str(conf), "-p", str(workdir), "-g", "daemon off;"])
    wait_for_port(listen, process)
    return process


async def test_an_answer_streams_through_nginx_as_it_is_written(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    if not Path(NGINX).exists():
        pytest.fail("Debian's nginx is missing: make test installs it (scripts/test-services)")
    fake_upstream_server.reset()
    fake_upstream_server.plan(tokens=200, delay=0.02)
    env, cookie = await asyncio.to_thread(site_prepared, fake_upstream_server, tmp_path)
    site, site_port = await asyncio.to_thread(start_site, env)
    port = free_port()
    proxy = await asyncio.to_thread(start_nginx, tmp_path, listen=port, site_port=site_port)
    try:
        async with httpx.AsyncClient(cookies={"sessionid": cookie}) as http:
            page = await http.get(f"http://127.0.0.1:{port}/")
            health = await http.get(f"http://127.0.0.1:{port}/healthz")
        async with site_socket(port, cookie) as ws:
            await ws.send(json.dumps({"type": "send", "content": "through the proxy"}))
            while (frame := json.loads(await ws.recv()))["type"] != "delta":
                pass
            upstream_then = fake_upstream_server.log()[-1]
            deltas = 1
            while (frame := json.loads(await ws.recv()))["type"] != "done":
                deltas += frame["type"] == "delta"
    finally:
        stop(proxy)
        stop(site)

    assert page.status_code == 200
    assert "conversation-list" in page.text
    assert health.json() == {"database": "ok", "channel_layer": "ok"}
    assert upstream_then["outcome"] == "pending", "the first words came before the upstream ended"
    assert deltas > 5
    assert frame["status"] == "complete"
    assert frame["content"] == "".join(f"t{i} " for i in range(200))


async def test_the_access_log_never_holds_a_share_links_token(
    fake_upstream_server: FakeUpstreamServer, tmp_path
):
    env, cookie = await asyncio.to_thread(site_prepared, fake_upstream_server, tmp_path)
    site, site_port = await asyncio.to_thread(start_site, env)
    port = free_port()
    proxy = await asyncio.to_thread(start_nginx, tmp_path, listen=port, site_port=site_port)
    token = "a-secret-share-token-0123456789abcdefghijklmn"
    try:
        async with httpx.AsyncClient(cookies={"sessionid": cookie}) as http:
            missing = await http.get(f"http://127.0.0.1:{port}/s/{token}/")
            home = await http.get(
                f"http://127.0.0.1:{port}/", headers={"Referer": f"http://x/s/{token}/"}
            )
    finally:
        stop(proxy)
        stop(site)

    logged = (tmp_path / "access.log").read_text()
    assert (missing.status_code, home.status_code) == (404, 200)
    assert '"GET /s/[token] HTTP/1.1" 404' in logged
    assert token not in logged
