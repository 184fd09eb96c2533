#!/usr/bin/env python3
"""Pictures of a notification for docs/notifications.md, from the bodies the code renders
(docs/notifications/{teams,slack}-message.json, kept current by notify/tests/rendered_examples.rs).

Teams: the Adaptive Card rendered by the official renderer (npm `adaptivecards`, a local copy,
no CDN). Slack: an HTML rendering of the Block Kit blocks (header, section, fields, context,
actions), labelled as a preview: Slack's own renderer cannot run here. Both are screenshotted by
headless Chromium, cropped to their content, and checked: the page shows the cluster and the
reason, and the picture is not blank.

  render_pictures.py --adaptivecards PATH/adaptivecards.min.js --out docs/img [--chromium BIN]
"""

import argparse
import html
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", ".."))
EXAMPLES = os.path.join(ROOT, "docs", "notifications")
MAX_PNG_BYTES = 150 * 1024

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
    "--virtual-time-budget=5000",
]

PAGE_STYLE = """
body { margin: 0; padding: 16px; background: #ffffff; font-family: "Segoe UI", "Noto Sans",
  "DejaVu Sans", Arial, sans-serif; width: 640px; }
.label { font-size: 11px; color: #6b6b6b; margin-bottom: 10px; }
"""

TEAMS_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<style>{style}
.teams {{ background: #f5f5f5; padding: 14px; border-radius: 6px; }}
.sender {{ font-size: 12px; color: #616161; margin: 0 0 6px 4px; }}
.card {{ background: #fff; border-radius: 6px; box-shadow: 0 1px 3px rgba(0,0,0,.15);
  overflow: hidden; }}
</style>
<script src="{script}"></script></head><body>
<div class="label">Microsoft Teams: the notifier's Adaptive Card, rendered by the official
adaptivecards renderer {version}</div>
<div class="teams"><div class="sender">eventkeeper (Workflows)</div><div class="card" id="card"></div></div>
<script>
const body = {body};
const card = new AdaptiveCards.AdaptiveCard();
card.hostConfig = new AdaptiveCards.HostConfig({{
  fontFamily: "Segoe UI, Noto Sans, DejaVu Sans, sans-serif",
  spacing: {{ small: 4, default: 8, medium: 16, large: 20, extraLarge: 24, padding: 16 }},
  actions: {{ maxActions: 5, buttonSpacing: 8, showCard: {{ actionMode: "Inline" }},
    actionsOrientation: "Horizontal", actionAlignment: "Left" }},
}});
card.parse(body.attachments[0].content);
document.getElementById("card").appendChild(card.render());
</script></body></html>
"""

SLACK_PAGE = """<!doctype html><html><head><meta charset="utf-8">
<style>{style}
.msg {{ display: flex; gap: 8px; padding: 8px 4px; font-size: 15px; color: #1d1c1d;
  line-height: 1.46; }}
.avatar {{ width: 36px; height: 36px; border-radius: 4px; background: #326ce5; color: #fff;
  font-weight: 700; display: flex; align-items: center; justify-content: center; flex: none; }}
.who b {{ font-weight: 900; }} .who .app {{ font-size: 10px; background: #e8e8e8; color: #616061;
  padding: 1px 3px; border-radius: 2px; margin: 0 4px; }} .who .time {{ color: #616061; font-size: 12px; }}
.header {{ font-size: 18px; font-weight: 900; margin: 4px 0; }}
.section {{ margin: 4px 0; }}
.fields {{ display: grid; grid-template-columns: 1fr 1fr; gap: 8px 16px; margin: 8px 0; }}
pre {{ background: #f8f8f8; border: 1px solid #dddddd; border-radius: 4px; padding: 8px;
  margin: 4px 0; white-space: pre-wrap; word-break: break-all; font-size: 12px;
  font-family: Monaco, Menlo, "DejaVu Sans Mono", monospace; }}
.context {{ font-size: 12px; color: #616061; margin: 4px 0; }}
.button {{ display: inline-block; border: 1px solid #bbbbbb; border-radius: 4px; padding: 3px 12px;
  font-size: 14px; font-weight: 700; margin: 6px 0 2px; }}
</style></head><body>
<div class="label">Slack: preview of the notifier's Block Kit message (an HTML rendering of its
blocks, not Slack's own renderer)</div>
<div class="msg"><div class="avatar">ek</div><div>
<div class="who"><b>eventkeeper</b><span class="app">APP</span><span class="time">09:41</span></div>
<div id="blocks"></div></div></div>
<script>
const body = {body};
function esc(t) {{ return t.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;"); }}
function mrkdwn(t) {{
  // Slack's mrkdwn subset the notifier uses: ```code```, *bold*, _italic_, `code`, newlines.
  return t.split("```").map((part, i) => i % 2 ? "<pre>" + esc(part) + "</pre>" :
    esc(part).replace(/\\*([^*\\n]+)\\*/g, "<b>$1</b>").replace(/_([^_\\n]+)_/g, "<i>$1</i>")
      .replace(/`([^`\\n]+)`/g, "<code>$1</code>").replace(/\\n/g, "<br>")).join("");
}}
function text(t) {{ return t.type === "mrkdwn" ? mrkdwn(t.text) : esc(t.text); }}
const out = document.getElementById("blocks");
for (const b of body.blocks) {{
  const div = document.createElement("div");
  if (b.type === "header") {{ div.className = "header"; div.innerHTML = text(b.text); }}
  else if (b.type === "section") {{
    div.className = "section";
    if (b.text) div.innerHTML = text(b.text);
    if (b.fields) {{ const g = document.createElement("div"); g.className = "fields";
      for (const f of b.fields) {{ const c = document.createElement("div"); c.innerHTML = text(f); g.appendChild(c); }}
      div.appendChild(g); }}
  }} else if (b.type === "context") {{ div.className = "context";
    div.innerHTML = b.elements.map(text).join(" "); }}
  else if (b.type === "actions") {{
    div.innerHTML = b.elements.map(e => '<span class="button">' + text(e.text) + "</span>").join(" "); }}
  else {{ div.textContent = "(unsupported block " + b.type + ")"; }}
  out.appendChild(div);
}}
</script></body></html>
"""


def chromium(binary, args, page):
    profile = tempfile.mkdtemp(prefix="eventkeeper-chromium-")
    try:
        return subprocess.run(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args, "file://" + page],
            check=True,
            capture_output=True,
            timeout=120,
        ).stdout.decode("utf-8", "replace")
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def read_png(path):
    """(width, height, rows of RGB bytes) of an 8-bit RGB or RGBA PNG."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, chunk = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color = header[:4]
    assert depth == 8 and color in (2, 6), f"unexpected PNG format {header}"
    channels = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            upper_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - upper_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - upper_left)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else upper_left
                line[i] = (line[i] + pred) & 0xFF
        previous = line
        if channels == 4:
            line = bytearray(b for i, b in enumerate(line) if i % 4 != 3)
        rows.append(bytes(line))
    return width, height, rows


def write_png(path, width, rows):
    def chunk(kind, payload):
        return (
            struct.pack(">I", len(payload))
            + kind
            + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
        )

    raw = b"".join(b"\x00" + row for row in rows)
    with open(path, "wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(chunk(b"IHDR", struct.pack(">IIBBBBB", width, len(rows), 8, 2, 0, 0, 0)))
        out.write(chunk(b"IDAT", zlib.compress(raw, 9)))
        out.write(chunk(b"IEND", b""))


def crop_and_check(shot, target, name):
    """Crops the screenshot below its last non-white row; fails when it is (nearly) blank."""
    width, height, rows = read_png(shot)
    white = b"\xff" * (width * 3)
    inked = [y for y, row in enumerate(rows) if row != white]
    assert inked, f"{name}: the screenshot is blank"
    colours = {row[x : x + 3] for row in rows[:: 4] for x in range(0, len(row), 12)}
    assert len(colours) > 8, f"{name}: the screenshot has only {len(colours)} colours"
    dark = sum(1 for row in rows for x in range(0, len(row), 3) if row[x] < 128)
    assert dark > 2000, f"{name}: only {dark} dark pixels: no text rendered"
    bottom = min(height, inked[-1] + 17)
    assert bottom < height, f"{name}: content reaches the bottom edge; enlarge the window"
    write_png(target, width, rows[:bottom])
    size = os.path.getsize(target)
    assert size < MAX_PNG_BYTES, f"{name}: {size} bytes (limit {MAX_PNG_BYTES})"
    return width, bottom, size


def render(binary, page_html, work, target, name, expected_texts):
    page = os.path.join(work, name + ".html")
    with open(page, "w", encoding="utf-8") as out:
        out.write(page_html)
    dom = chromium(binary, ["--dump-dom"], page)
    for needle in expected_texts:
        assert needle in dom, f"{name}: the rendered page lacks {needle!r}"
    shot = os.path.join(work, name + ".png")
    chromium(binary, [f"--screenshot={shot}", "--window-size=672,1400"], page)
    width, height, size = crop_and_check(shot, target, name)
    print(f"{os.path.relpath(target, ROOT)}: {width}x{height}, {size} bytes")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--adaptivecards", required=True, help="adaptivecards.min.js")
    parser.add_argument("--out", default=os.path.join(ROOT, "docs", "img"))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    args = parser.parse_args()
    if not shutil.which(args.chromium) and not os.path.exists(args.chromium):
        sys.exit("notify-pictures: no chromium (apt-get install chromium)")
    package = os.path.join(os.path.dirname(args.adaptivecards), "..", "package.json")
    version = json.load(open(package))["version"]
    teams = json.load(open(os.path.join(EXAMPLES, "teams-message.json")))
    slack = json.load(open(os.path.join(EXAMPLES, "slack-message.json")))
    facts = {
        f["title"]: f["value"]
        for block in teams["attachments"][0]["content"]["body"]
        for f in block.get("facts", [])
    }
    expected = [facts["Cluster"], facts["Reason"]]
    os.makedirs(args.out, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="eventkeeper-pictures-") as work:
        render(
            args.chromium,
            TEAMS_PAGE.format(
                style=PAGE_STYLE,
                script="file://" + os.path.abspath(args.adaptivecards),
                version=html.escape(version),
                body=json.dumps(teams),
            ),
            work,
            os.path.join(args.out, "notification-teams.png"),
            "teams",
            expected + ["ac-adaptiveCard"],
        )
        render(
            args.chromium,
            SLACK_PAGE.format(style=PAGE_STYLE, body=json.dumps(slack)),
            work,
            os.path.join(args.out, "notification-slack.png"),
            "slack",
            expected + ['class="fields"'],
        )


if __name__ == "__main__":
    main()
