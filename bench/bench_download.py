"""Download throughput: a 1 GiB file through the hub's local-storage file URL, served by `make run`'s
server (bin/run-web: gunicorn, threaded workers, DEBUG on) or with --server docker by the Docker
image's command (gunicorn, 2 sync workers), over loopback, against nginx serving the same file from
disk, in the same run.

The hub is a private instance (its own var/ folder). The file goes through the real pipeline, then
the benchmark follows the download endpoint's 307 to the signed /files/ URL and fetches it with
curl (discarding the bytes), alternating hub and nginx runs. It samples the RSS of the gunicorn
workers during the hub's transfers. Target (issue 5): hub ≥ 0.8× nginx's MB/s, RSS flat.

    .venv/bin/python bench/bench_download.py [--size-mib 1024] [--repeat 3] [--server make-run|docker]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import (  # noqa: E402
    ROOT,
    RssSampler,
    child_pids,
    free_port,
    gunicorn,
    hub_env,
    make_run_server,
    mib,
    wait_http,
)

SERVERS = {
    "make-run": ("make run's gunicorn (gthread)", make_run_server),
    "docker": ("gunicorn x2 sync (Docker)", lambda env: gunicorn(env, workers=2)),
}

PREPARE = """
import io, json, sys, django
django.setup()
from django.contrib.auth.models import User
from django.core.files import File
from models_app import processing, services
from models_app.models import ModelFile
user = User.objects.get(username="bench")
model = services.create_model(owner=user, name="Bench download", type="Other")
version = services.create_version(model=model, name="v1", base_model="Other")
with open(sys.argv[1], "rb") as f:
    model_file = services.add_file(version=version, name="big.txt", content=File(f, name="big.txt"), type="Other")
services.publish_version(version=version, by=user)
model_file = processing.process_file(model_file=ModelFile.objects.get(id=model_file.id))
from models_app.storage import model_storage
print(json.dumps({"version": version.id, "path": model_storage().path(model_file.blob.storage_key),
                  "status": model_file.status}))
"""

NGINX_CONF = """
worker_processes 1;
user root;  # the blob sits in a private temp folder the default worker user cannot read
daemon off;
error_log {prefix}/error.log;
pid {prefix}/nginx.pid;
events {{ worker_connections 64; }}
http {{
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path {prefix}/tmp;
  proxy_temp_path {prefix}/tmp;
  fastcgi_temp_path {prefix}/tmp;
  uwsgi_temp_path {prefix}/tmp;
  scgi_temp_path {prefix}/tmp;
  server {{
    listen 127.0.0.1:{port};
    location /file {{ alias {path}; default_type application/octet-stream; }}
  }}
}}
"""


def curl_mb_per_s(url: str) -> float:
    out = subprocess.run(
        ["curl", "-s", "-o", "/dev/null", "-w", "%{speed_download} %{size_download}", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return float(out[0]) / 1e6


def resolve_download(base: str, version_id: int) -> str:
    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        opener.open(f"{base}/api/download/models/{version_id}")
    except urllib.error.HTTPError as response:
        assert response.code == 307, response.code
        return response.headers["Location"]
    raise RuntimeError("the download endpoint did not redirect")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--server", choices=sorted(SERVERS), default="make-run")
    args = parser.parse_args()
    label, start_server = SERVERS[args.server]
    nginx = shutil.which("nginx")
    if not nginx:
        sys.exit("nginx is needed for the baseline: apt-get install nginx-light")
    with tempfile.TemporaryDirectory(prefix="bench-dl-") as tmp, hub_env() as env:
        source = Path(tmp) / "big.bin"
        with source.open("wb") as f:
            block = os.urandom(8 << 20)
            for _ in range(args.size_mib // 8):
                f.write(block)
        prepared = subprocess.run(
            [sys.executable, "-c", PREPARE, str(source)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        )
        info = json.loads(prepared.stdout.strip().splitlines()[-1])
        assert info["status"] == "ready", info
        port = free_port()
        prefix = Path(tmp) / "nginx"
        (prefix / "tmp").mkdir(parents=True)
        conf = prefix / "nginx.conf"
        conf.write_text(NGINX_CONF.format(prefix=prefix, port=port, path=info["path"]))
        server = subprocess.Popen([nginx, "-c", str(conf), "-p", str(prefix)])
        try:
            wait_http(f"http://127.0.0.1:{port}/file")
            with start_server(env) as (process, base):
                workers = child_pids(process.pid)
                url = resolve_download(base, info["version"])
                curl_mb_per_s(url)  # warm both servers and the page cache
                curl_mb_per_s(f"http://127.0.0.1:{port}/file")
                hub, ngx, peaks = [], [], []
                baseline_rss = None
                for _ in range(args.repeat):
                    with RssSampler(workers) as sampler:
                        baseline_rss = baseline_rss or sampler.current()
                        hub.append(curl_mb_per_s(url))
                    peaks.append(sampler.peak)
                    ngx.append(curl_mb_per_s(f"http://127.0.0.1:{port}/file"))
        finally:
            server.terminate()
            server.wait(timeout=30)
    hub_mb, ngx_mb = statistics.median(hub), statistics.median(ngx)
    print(f"download of a {args.size_mib} MiB file over loopback, median of {args.repeat} (alternating)")
    print(f"{'server':44} {'MB/s':>8} {'x nginx':>8}")
    print(f"{'nginx (sendfile, baseline)':44} {ngx_mb:>8.0f} {1:>7.2f}x")
    print(f"{'hub /files/, ' + label:44} {hub_mb:>8.0f} {hub_mb / ngx_mb:>7.2f}x")
    print(
        f"gunicorn workers' RSS: before {mib(baseline_rss)}, peak during transfers {mib(max(peaks))}, "
        f"growth {mib(max(peaks) - baseline_rss)}"
    )
    time.sleep(0)


if __name__ == "__main__":
    main()
