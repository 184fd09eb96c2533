"""Drives the official Kubernetes Python client against the simulator.

Usage: py_client.py KUBECONFIG MODE [ARG]
  list              list_event_for_all_namespaces in pages of 2 (limit/_continue); prints one
                    JSON document {"pages": n, "names": [...], "resourceVersion": rv}
  first-page        one page of 2; prints {"continue": token, "resourceVersion": rv}
  continue TOKEN    the next page for TOKEN; prints {"status": code, "reason": r} on ApiException
  watch N           watch.Watch().stream over all namespaces; prints one JSON line per event and
                    stops after N events (or the server's timeout)
  watch-from RV     watch from resourceVersion RV; prints {"status": code} on ApiException
"""

import json
import sys

from kubernetes import client, config, watch


def main():
    kubeconfig, mode = sys.argv[1], sys.argv[2]
    arg = sys.argv[3] if len(sys.argv) > 3 else None
    config.load_kube_config(config_file=kubeconfig)
    v1 = client.CoreV1Api()

    if mode == "list":
        names, pages, token = [], 0, None
        rv = None
        while True:
            kwargs = {"limit": 2}
            if token:
                kwargs["_continue"] = token
            page = v1.list_event_for_all_namespaces(**kwargs)
            pages += 1
            rv = rv or page.metadata.resource_version
            names.extend(f"{e.metadata.namespace}/{e.metadata.name}" for e in page.items)
            for e in page.items:
                assert e.involved_object is not None
            token = page.metadata._continue
            if not token:
                break
            if pages > 1000:
                raise SystemExit("too many pages")
        print(json.dumps({"pages": pages, "names": names, "resourceVersion": rv}))
    elif mode == "first-page":
        page = v1.list_event_for_all_namespaces(limit=2)
        print(json.dumps({"continue": page.metadata._continue,
                          "resourceVersion": page.metadata.resource_version}))
    elif mode == "continue":
        try:
            page = v1.list_event_for_all_namespaces(limit=2, _continue=arg)
            print(json.dumps({"status": 200, "items": len(page.items)}))
        except client.exceptions.ApiException as e:
            body = json.loads(e.body) if e.body else {}
            print(json.dumps({"status": e.status, "reason": body.get("reason")}))
    elif mode == "watch":
        want = int(arg)
        seen = 0
        w = watch.Watch()
        for ev in w.stream(v1.list_event_for_all_namespaces, timeout_seconds=20):
            obj = ev["object"]
            print(json.dumps({"type": ev["type"], "name": obj.metadata.name,
                              "namespace": obj.metadata.namespace,
                              "resourceVersion": obj.metadata.resource_version,
                              "count": obj.count, "reason": obj.reason}), flush=True)
            seen += 1
            if seen >= want:
                w.stop()
    elif mode == "watch-from":
        w = watch.Watch()
        try:
            for ev in w.stream(v1.list_event_for_all_namespaces, resource_version=arg,
                               timeout_seconds=5):
                print(json.dumps({"type": ev["type"]}), flush=True)
            print(json.dumps({"status": 200}))
        except client.exceptions.ApiException as e:
            print(json.dumps({"status": e.status}))
    else:
        raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()
