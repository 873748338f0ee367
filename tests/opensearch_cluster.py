"""A real local OpenSearch cluster, for the tests and the benchmarks.

The distribution is OpenSearch's integration-test zip (no security plugin, plain HTTP)
with the common analysis module added, fetched once through Maven into Maven's local
repository and unpacked under the cluster's own folder. Each node is one JVM in its own process group, with its own
folder (config, data, logs, tmp and ``node.log``, its stdout and stderr) and its own
loopback ports. The kernel kills every JVM when the Python thread that started it ends
(``PR_SET_PDEATHSIG``), and :meth:`Cluster.stop` runs at exit, so no JVM outlives the run.

OpenSearch refuses to run as root: as root, the JVMs run as user nobody (65534), who
owns the cluster's folder. Talking to the nodes takes only the standard library.

Tests get a started 3-node cluster from the session fixture :func:`opensearch_cluster`.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import http.client
import json
import os
import random
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

VERSION = "2.19.6"
# The user and group the JVMs run as when the tests run as root: nobody, nogroup.
NOBODY = 65534
_DEPENDENCY_PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.8.1"
_REPOSITORY = Path.home() / ".m2" / "repository"
_STATUSES = ("red", "yellow", "green")
# Ports are taken below the kernel's ephemeral range, so that no outgoing connection can
# hold a stopped node's port when it starts again; below 1024 needs privileges.
_LOWEST_PORT = 10000
_PR_SET_PDEATHSIG = 1
# Loopback only: a proxy from the environment must not see these requests.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class ClusterError(RuntimeError):
    """The cluster could not be fetched, started or asked."""


def request(url: str, method: str = "GET", body: object = None, timeout: float = 30) -> Any:
    """Send one request to a node and return its JSON answer; raise ClusterError, with the
    answer's start, on an HTTP error status."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with _OPENER.open(req, timeout=timeout) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        with error:
            detail = error.read(2000).decode(errors="replace")
        raise ClusterError(f"{method} {url}: HTTP {error.code}: {detail}") from error


def _java_home() -> Path | None:
    """Return JAVA_HOME when it holds a java, else the home of the java on PATH."""
    home = os.environ.get("JAVA_HOME")
    if home and os.access(Path(home, "bin", "java"), os.X_OK):
        return Path(home)
    java = shutil.which("java")
    return Path(java).resolve().parent.parent if java else None


Artifact = tuple[str, str, str]  # group, name and packaging of a Maven artifact


def _cached(artifact: Artifact, version: str) -> Path:
    """Return where an artifact lies in Maven's local repository."""
    group, name, packaging = artifact
    return _REPOSITORY.joinpath(*group.split("."), name, version, f"{name}-{version}.{packaging}")


# The distribution (no security plugin, plain HTTP) and the common analysis module every
# full distribution ships (the integration-test zip does not): the near field's analyzer
# needs its whitespace tokenizer and pattern-capture filter.
_DISTRIBUTION: Artifact = ("org.opensearch.distribution.integ-test-zip", "opensearch", "zip")
_ANALYSIS_COMMON: Artifact = ("org.opensearch.plugin", "analysis-common", "jar")


def prerequisite() -> str | None:
    """Return why a cluster cannot be started here, or None when it can."""
    if sys.platform != "linux":
        return "the launcher needs Linux (prctl ties each node's life to the process that started it)"
    if _java_home() is None:
        return "no Java: set JAVA_HOME or put java on PATH"
    fetched = all(_cached(artifact, VERSION).is_file() for artifact in (_DISTRIBUTION, _ANALYSIS_COMMON))
    if not fetched and shutil.which("mvn") is None:
        return f"no Maven (mvn) to fetch OpenSearch {VERSION}"
    return None


def fetch(artifact: Artifact, version: str) -> Path:
    """Return an artifact in Maven's local repository, fetched by Maven the first time."""
    path = _cached(artifact, version)
    if path.is_file():
        return path
    group, name, packaging = artifact
    coordinates = f"{group}:{name}:{version}:{packaging}"
    mvn = shutil.which("mvn")
    if mvn is None:
        raise ClusterError(f"Maven (mvn) is needed to fetch {coordinates}")
    command = [mvn, "-q", "-B", f"-Dmaven.repo.local={_REPOSITORY}", f"{_DEPENDENCY_PLUGIN}:get",
               f"-Dartifact={coordinates}", "-Dtransitive=false"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    if done.returncode != 0 or not path.is_file():
        output = (done.stdout + done.stderr).strip()[-3000:]
        raise ClusterError(f"Maven could not fetch {coordinates} (exit status {done.returncode}):\n{output}")
    return path


def _add_analysis_common(home: Path, version: str) -> None:
    """Install the common analysis module into an unpacked distribution, as a full
    distribution has it (its jar, and the descriptor the jar does not carry; without
    the scripting module, its Painless extension stays unused)."""
    jar = fetch(_ANALYSIS_COMMON, version)
    name = _ANALYSIS_COMMON[1]
    module = home / "modules" / name
    module.mkdir(parents=True)
    shutil.copy2(jar, module / jar.name)
    (module / "plugin-descriptor.properties").write_text(
        "description=Adds analysis components: tokenizers, token filters and analyzers\n"
        f"version={version}\nname={name}\nclassname=org.opensearch.analysis.common.CommonAnalysisPlugin\n"
        f"java.version=11\nopensearch.version={version}\ncustom.foldername=\nextended.plugins=\n"
        "has.native.controller=false\n"
    )


def _free_ports(count: int) -> list[int]:
    """Return count loopback ports free now, below the kernel's ephemeral range."""
    ephemeral = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    candidates = range(_LOWEST_PORT, ephemeral)
    held: list[socket.socket] = []
    try:
        for port in random.SystemRandom().sample(candidates, len(candidates)):
            probe = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            held.append(probe)
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                held.pop().close()
                continue
            if len(held) == count:
                return [bound.getsockname()[1] for bound in held]
    finally:
        for bound in held:
            bound.close()
    raise ClusterError(f"fewer than {count} free ports in {_LOWEST_PORT}-{ephemeral - 1}")


def _die_with_parent(prctl: Callable[..., int], parent: int) -> None:
    """Run in the child between fork and exec, after it took its user: have the kernel
    SIGKILL it when the thread that started it ends. The setting survives the exec of
    bin/opensearch and that script's own exec of java, so it holds for the JVM itself."""
    if prctl(_PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:
        os._exit(1)


def _reachable(folder: Path) -> None:
    """Raise unless user nobody can reach folder, that is search every folder above it."""
    for parent in folder.parents:
        if not parent.stat().st_mode & stat.S_IXOTH:
            raise ClusterError(
                f"user nobody, who runs the nodes, cannot reach {folder}: {parent} does not let others search it;"
                f" choose a folder under {tempfile.gettempdir()}"
            )


def _hand_over(folder: Path) -> None:
    """Give folder and everything in it to user nobody."""
    os.chown(folder, NOBODY, NOBODY)
    for top, folders, files in os.walk(folder):
        for name in folders + files:
            os.chown(os.path.join(top, name), NOBODY, NOBODY)


def _unpack(version: str, target: Path) -> None:
    """Unpack the distribution's zip into target, with the files' modes (bin/* executable),
    and add the common analysis module."""
    staging = target.with_name(target.name + ".unpacking")
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(fetch(_DISTRIBUTION, version)) as archive:
        for member in archive.infolist():
            extracted = Path(archive.extract(member, staging))
            mode = member.external_attr >> 16 & 0o777
            if mode:
                extracted.chmod(mode)
    _add_analysis_common(staging / target.name, version)
    (staging / target.name).rename(target)
    staging.rmdir()


class Cluster:
    """A local OpenSearch cluster of ``nodes`` nodes n0..n{k-1} under ``root``.

    Start it from the thread that will outlive it (the main thread): its nodes die with
    that thread. Node numbers are the indexes of :meth:`kill`, :meth:`restart`,
    :meth:`cluster_manager` and :meth:`primary_holder`.
    """

    def __init__(self, root: Path, nodes: int = 3, heap: str = "256m", version: str = VERSION) -> None:
        self.root = Path(root).resolve()
        self.nodes = nodes
        self.heap = heap
        self.version = version
        self.name = f"reply-archive-{uuid.uuid4().hex[:12]}"
        self.home = self.root / f"opensearch-{version}"
        self._http: list[int] = []
        self._transport: list[int] = []
        self._procs: list[subprocess.Popen[bytes] | None] = [None] * nodes
        self._log_offsets = [0] * nodes
        # The environment of every JVM, set by start().
        self._env: dict[str, str] = {}

    def folder(self, node: int) -> Path:
        """Return a node's folder: config, data, logs, tmp and node.log (its stdout and stderr)."""
        return self.root / f"n{node}"

    @property
    def urls(self) -> list[str]:
        """Return the HTTP address of every running node, in node order."""
        return [self._url(node) for node, proc in enumerate(self._procs) if proc is not None and proc.poll() is None]

    @property
    def url(self) -> str:
        """Return the HTTP address of a running node."""
        urls = self.urls
        if not urls:
            raise ClusterError("no node of the cluster is running")
        return urls[0]

    def start(self, timeout: float = 240) -> None:
        """Start every node and wait until all of them have joined and health is at least yellow."""
        if self._http:
            raise ClusterError("the cluster was started already")
        java_home = _java_home()
        if java_home is None:
            raise ClusterError("no Java: set JAVA_HOME or put java on PATH")
        self._env = {**os.environ, "JAVA_HOME": str(java_home), "OPENSEARCH_HOME": str(self.home)}
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            _reachable(self.root)
        if not (self.home / "modules" / _ANALYSIS_COMMON[1]).is_dir():  # none yet, or unpacked without it
            shutil.rmtree(self.home, ignore_errors=True)
            _unpack(self.version, self.home)
        ports = _free_ports(2 * self.nodes)
        self._http, self._transport = ports[: self.nodes], ports[self.nodes :]
        for node in range(self.nodes):
            self._prepare(node)
        if os.geteuid() == 0:
            _hand_over(self.root)
        atexit.register(self.stop)
        try:
            for node in range(self.nodes):
                self._spawn(node)
            self.wait_for("yellow", timeout)
        except BaseException:
            self.stop()
            raise

    def wait_for(self, status: str = "yellow", timeout: float = 240) -> dict[str, Any]:
        """Wait until every running node answers, counts exactly the running nodes and
        reports health at least ``status``; return the last node's health."""
        wanted = _STATUSES.index(status)
        deadline = time.monotonic() + timeout
        while True:
            running = self._running()
            if not running:
                raise ClusterError("no node of the cluster is running")
            waiting: dict[int, str] = {}
            health: dict[str, Any] = {}
            for node in running:
                try:
                    health = request(f"{self._url(node)}/_cluster/health?cluster_manager_timeout=2s", timeout=10)
                except (OSError, http.client.HTTPException, ValueError, ClusterError) as error:
                    waiting[node] = f"no answer: {error}"
                    continue
                if health["number_of_nodes"] != len(running) or _STATUSES.index(health["status"]) < wanted:
                    waiting[node] = f"counts {health['number_of_nodes']} nodes, {health['status']}"
            if not waiting:
                return health
            if time.monotonic() > deadline:
                reports = "\n".join(self._report(node, why) for node, why in waiting.items())
                raise ClusterError(f"{len(running)} nodes not {status} after {timeout:.0f} s:\n{reports}")
            time.sleep(0.5)

    def kill(self, node: int) -> None:
        """SIGKILL a node's JVM, as a crash would, and wait until it is gone."""
        proc = self._procs[node]
        if proc is None:
            raise ClusterError(f"node n{node} is not running")
        self._procs[node] = None
        _kill(proc)

    def restart(self, node: int, timeout: float = 240) -> None:
        """Start a killed node again, on its ports and data, and wait until it has rejoined."""
        if self._procs[node] is not None:
            raise ClusterError(f"node n{node} is running")
        self._spawn(node)
        self.wait_for("yellow", timeout)

    def cluster_manager(self) -> int:
        """Return the number of the elected cluster manager."""
        rows = request(f"{self.url}/_cat/cluster_manager?format=json")
        return _number(rows[0]["node"])

    def primary_holder(self, index: str) -> int:
        """Return the number of a node holding a started primary shard of index."""
        rows = request(f"{self.url}/_cat/shards/{urllib.parse.quote(index)}?format=json")
        for row in rows:
            if row["prirep"] == "p" and row["state"] == "STARTED":
                return _number(row["node"])
        raise ClusterError(f"no started primary shard of {index}: {rows}")

    def stop(self) -> None:
        """SIGKILL every node and wait until their processes have ended."""
        atexit.unregister(self.stop)
        procs = [proc for proc in self._procs if proc is not None]
        self._procs = [None] * self.nodes
        for proc in procs:
            _kill(proc)

    def _url(self, node: int) -> str:
        return f"http://127.0.0.1:{self._http[node]}"

    def _prepare(self, node: int) -> None:
        """Make a node's folder, its config a copy of the distribution's whose JVM writes
        its GC log, heap dumps and crash reports into the node's folder."""
        folder = self.folder(node)
        for part in ("data", "logs", "tmp"):
            (folder / part).mkdir(parents=True, exist_ok=True)
        config = folder / "config"
        shutil.copytree(self.home / "config", config)
        options = config / "jvm.options"
        kept = [line for line in options.read_text().splitlines() if "logs/" not in line and "HeapDumpPath" not in line]
        options.write_text("\n".join(kept) + "\n")
        (config / "jvm.options.d").mkdir(exist_ok=True)
        (config / "jvm.options.d" / "node.options").write_text(
            f"-Xms{self.heap}\n-Xmx{self.heap}\n"
            f"-XX:HeapDumpPath={folder / 'data'}\n-XX:ErrorFile={folder / 'logs'}/hs_err_pid%p.log\n"
            f"-Xlog:gc*,safepoint:file={folder / 'logs'}/gc.log:utctime,pid,tags:filecount=4,filesize=16m\n"
        )

    def _spawn(self, node: int) -> None:
        folder = self.folder(node)
        seeds = ",".join(f"127.0.0.1:{port}" for port in self._transport)
        settings = {
            "node.name": f"n{node}",
            "cluster.name": self.name,
            "network.host": "127.0.0.1",
            "http.port": self._http[node],
            "transport.port": self._transport[node],
            "discovery.seed_hosts": seeds,
            "cluster.initial_cluster_manager_nodes": ",".join(f"n{n}" for n in range(self.nodes)),
            "path.data": folder / "data",
            "path.logs": folder / "logs",
            # The disks here may be nearly full: allocate shards whatever their free space.
            "cluster.routing.allocation.disk.threshold_enabled": "false",
            "action.destructive_requires_name": "false",
        }
        env = {**self._env, "OPENSEARCH_PATH_CONF": str(folder / "config"), "OPENSEARCH_TMPDIR": str(folder / "tmp")}
        as_nobody: dict[str, Any] = {"user": NOBODY, "group": NOBODY, "extra_groups": []} if os.geteuid() == 0 else {}
        log = folder / "node.log"
        with log.open("ab") as out:
            out.write(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} starting n{node} ---\n".encode())
            out.flush()
            self._log_offsets[node] = out.tell()
            self._procs[node] = subprocess.Popen(
                [str(self.home / "bin" / "opensearch"), *(f"-E{key}={value}" for key, value in settings.items())],
                cwd=self.home,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                process_group=0,
                preexec_fn=functools.partial(_die_with_parent, ctypes.CDLL(None, use_errno=True).prctl, os.getpid()),
                **as_nobody,
            )

    def _running(self) -> list[int]:
        """Return the numbers of the started nodes; raise if one of them has exited."""
        for node, proc in enumerate(self._procs):
            if proc is not None and proc.poll() is not None:
                raise ClusterError(self._report(node, f"exited with status {proc.returncode}"))
        return [node for node, proc in enumerate(self._procs) if proc is not None]

    def _report(self, node: int, why: str) -> str:
        """Return why a node failed, with the tail of its log since it was last started."""
        log = self.folder(node) / "node.log"
        with log.open("rb") as file:
            file.seek(self._log_offsets[node])
            lines = file.read().decode(errors="replace").splitlines()[-40:]
        return f"node n{node} (http port {self._http[node]}): {why}\n--- end of {log} ---\n" + "\n".join(lines)


def _kill(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL a node's process group (the JVM, and the start script's helpers if still
    there) and reap the JVM."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def _number(name: str) -> int:
    """Return a node's number from its name, n0..n{k-1}."""
    return int(name.removeprefix("n"))


@pytest.fixture(scope="session")
def opensearch_cluster() -> Iterator[Cluster]:
    """Return a started 3-node cluster, shared by the session; fail on CI without Java or
    Maven, skip elsewhere.

    The cluster lives in a folder of its own under the system's temporary folder, removed
    at the end, not under pytest's: those are 0700, and each new pytest session narrows its
    user's folder back to 0700, out of reach of user nobody, who runs the nodes as root.
    """
    reason = prerequisite()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(f"OpenSearch tests need Java and Maven: {reason}")
    root = Path(tempfile.mkdtemp(prefix="reply-archive-opensearch-"))
    cluster = Cluster(root)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(root, ignore_errors=True)
