"""The seed articles' exec call, made with the official Python client against a testcluster.

Usage: seed_client.py KUBECONFIG NAMESPACE POD CONTAINER
Prints one JSON line with what it saw; exits non-zero on any failure.
"""
import json
import sys
import time

from kubernetes import client, config
from kubernetes.stream import stream

# The exact command of the seed articles.
SEED_COMMAND = [
    "/bin/sh",
    "-c",
    'TERM=xterm-256color; export TERM; [ -x /bin/bash ] '
    '&& ([ -x /usr/bin/script ] '
    '&& /usr/bin/script -q -c "/bin/bash" /dev/null || exec /bin/bash) '
    '|| exec /bin/sh',
]


def read_until(resp, needle, timeout=10.0):
    seen = ""
    deadline = time.time() + timeout
    while time.time() < deadline:
        resp.update(timeout=0.2)
        if resp.peek_stdout():
            seen += resp.read_stdout()
            if needle in seen:
                return seen
    raise SystemExit(f"timed out waiting for {needle!r}; saw {seen!r}")


def main():
    kubeconfig, namespace, pod, container = sys.argv[1:5]
    config.load_kube_config(config_file=kubeconfig)
    api = client.CoreV1Api()
    resp = stream(
        api.connect_get_namespaced_pod_exec,
        name=pod,
        namespace=namespace,
        container=container,
        command=SEED_COMMAND,
        stderr=True, stdin=True,
        stdout=True, tty=True,
        _preload_content=False,
    )
    resp.write_stdin("echo marker-$((6*7))\n")
    first = read_until(resp, "marker-42")
    # channel 4: resize, as the seed front end sends on window changes
    resp.write_channel(4, json.dumps({"Width": 111, "Height": 33}))
    time.sleep(0.3)
    resp.write_stdin("stty size\n")
    second = read_until(resp, "33 111")
    resp.write_stdin("echo shell=$0\n")
    third = read_until(resp, "shell=/bin/")
    resp.write_stdin("exit\n")
    deadline = time.time() + 10
    while resp.is_open() and time.time() < deadline:
        resp.update(timeout=0.2)
    print(json.dumps({"first": first, "second": second, "third": third, "open": resp.is_open()}))


if __name__ == "__main__":
    main()
