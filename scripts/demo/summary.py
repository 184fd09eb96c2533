"""Reads eventkeeper records (emitter JSON lines and the catch-up's gzip archive) and prints what
an operator asks first: which warnings, where, and why scenario-a/b/c are broken."""
import collections
import gzip
import json
import pathlib
import sys


def records(emitter_lines, archive_dir):
    seen = set()
    sources = [open(emitter_lines, encoding="utf-8")]
    sources += [gzip.open(p, "rt", encoding="utf-8") for p in sorted(pathlib.Path(archive_dir).rglob("*.json.gz"))]
    for source in sources:
        with source:
            for line in source:
                record = json.loads(line)
                key = (record["metadata"].get("uid"), record["metadata"].get("resourceVersion"))
                if key not in seen:  # the idempotency key: emitter and archive overlap
                    seen.add(key)
                    yield record


def main():
    all_records = list(records(sys.argv[1], sys.argv[2]))
    warnings = [r for r in all_records if r.get("type") == "Warning"]
    print(f"    {len(all_records)} distinct observations, {len(warnings)} warnings")
    print("    Warnings by reason:")
    for reason, n in collections.Counter(r.get("reason") for r in warnings).most_common():
        print(f"      {n:4}  {reason}")
    print("    Warnings by namespace:")
    for ns, n in collections.Counter(r["metadata"].get("namespace") for r in warnings).most_common():
        print(f"      {n:4}  {ns}")
    print("    Diagnoses (latest warning per object):")
    latest = {}
    for r in warnings:
        obj = r["involvedObject"]
        key = (obj.get("namespace"), obj.get("kind"), obj.get("name"))
        if key not in latest or r.get("effectiveTime", "") >= latest[key].get("effectiveTime", ""):
            latest[key] = r
    for (ns, kind, name), r in sorted(latest.items(), key=lambda kv: str(kv[0])):
        print(f"      {ns}/{kind}/{name}: {r.get('reason')} x{r.get('occurrences')}: {(r.get('message') or '')[:110]}")


if __name__ == "__main__":
    main()
