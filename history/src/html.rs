//! `-o html`: one self-contained page (inline SVG and CSS, no script, no CDN, no network): one
//! row per object, grouped by owner, each Event observation a mark coloured by type at its time;
//! hovering a mark shows its time, reason and message (an SVG `<title>`).

use std::collections::BTreeMap;

use eventkeeper_core::Record;

use crate::query::effective_time;
use crate::table::{namespace, object};
use crate::target::owner_group;
use crate::window::Window;

/// Mark colour of a Warning.
pub const WARNING_COLOUR: &str = "#d62728";
/// Mark colour of a Normal event.
pub const NORMAL_COLOUR: &str = "#1f77b4";
/// Mark colour of any other type.
pub const OTHER_COLOUR: &str = "#7f7f7f";

/// Width of the object labels left of the plot, in pixels.
pub const LABEL_WIDTH: f64 = 360.0;
const PLOT_WIDTH: f64 = 900.0;
const ROW_HEIGHT: f64 = 22.0;
const MARK_RADIUS: f64 = 6.0;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page for `rows` over `window`.
pub fn render(rows: &[Record], window: &Window, title: &str) -> String {
    // owner group → object → marks
    let mut groups: BTreeMap<(String, String), BTreeMap<String, Vec<&Record>>> = BTreeMap::new();
    for r in rows {
        let o = &r.involved_object;
        let kind = o.kind.as_deref().unwrap_or("");
        let name = o.name.as_deref().unwrap_or("");
        groups
            .entry((namespace(r).to_owned(), owner_group(kind, name)))
            .or_default()
            .entry(object(r))
            .or_default()
            .push(r);
    }
    let span = (window.to.as_second() - window.from.as_second()).max(1) as f64;
    let x_of = |r: &Record| {
        let at = effective_time(r)
            .map(|t| t.as_second())
            .unwrap_or(window.from.as_second());
        LABEL_WIDTH + (at - window.from.as_second()) as f64 / span * PLOT_WIDTH
    };
    let mut body = String::new();
    let mut y = 30.0;
    for ((ns, owner), objects) in &groups {
        body.push_str(&format!(
            "<text class=\"group\" x=\"4\" y=\"{:.0}\">{}/{}</text>\n",
            y + 14.0,
            escape(ns),
            escape(owner)
        ));
        y += ROW_HEIGHT;
        for (name, marks) in objects {
            body.push_str(&format!(
                "<text class=\"object\" x=\"16\" y=\"{:.0}\">{}</text>\n<line class=\"lane\" x1=\"{LABEL_WIDTH}\" x2=\"{}\" y1=\"{:.0}\" y2=\"{:.0}\"/>\n",
                y + 14.0,
                escape(name),
                LABEL_WIDTH + PLOT_WIDTH,
                y + 10.0,
                y + 10.0
            ));
            for r in marks {
                let colour = match r.event_type() {
                    "Warning" => WARNING_COLOUR,
                    "Normal" => NORMAL_COLOUR,
                    _ => OTHER_COLOUR,
                };
                body.push_str(&format!(
                    "<circle cx=\"{:.1}\" cy=\"{:.0}\" r=\"{MARK_RADIUS}\" fill=\"{colour}\"><title>{} {} {} (x{}): {}</title></circle>\n",
                    x_of(r),
                    y + 10.0,
                    escape(r.effective_time.as_deref().unwrap_or("")),
                    escape(r.event_type()),
                    escape(r.reason.as_deref().unwrap_or("")),
                    r.occurrences,
                    escape(r.message.as_deref().unwrap_or(""))
                ));
            }
            y += ROW_HEIGHT;
        }
    }
    let height = y + 30.0;
    let width = LABEL_WIDTH + PLOT_WIDTH + 20.0;
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\n<style>\nbody{{font-family:sans-serif;margin:8px;background:#fff}}\ntext{{font-size:12px;fill:#222}}\n.group{{font-weight:bold}}\n.lane{{stroke:#ddd;stroke-width:1}}\n.axis{{fill:#666}}\n</style></head><body>\n<h1 style=\"font-size:16px\">{title}</h1>\n<p style=\"font-size:12px\"><span style=\"color:{WARNING_COLOUR}\">&#9679; Warning</span> &nbsp; <span style=\"color:{NORMAL_COLOUR}\">&#9679; Normal</span> &nbsp; {} to {} (UTC); hover a mark for its message.</p>\n<svg width=\"{width:.0}\" height=\"{height:.0}\">\n<text class=\"axis\" x=\"{LABEL_WIDTH}\" y=\"14\">{}</text>\n<text class=\"axis\" x=\"{:.0}\" y=\"14\" text-anchor=\"end\">{}</text>\n{body}</svg>\n</body></html>\n",
        window.from,
        window.to,
        window.from,
        LABEL_WIDTH + PLOT_WIDTH,
        window.to,
        title = escape(title),
    )
}
