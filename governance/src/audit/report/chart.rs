//! Inline SVG bar charts.

use std::collections::BTreeMap;
use std::fmt::{self, Write as _};

use super::html::{esc, num};
use super::period::Month;

/// Chart colours: received, passed, quarantined.
pub(super) const COLOURS: [&str; 3] = ["#4a6fa5", "#2e8540", "#d9822b"];
pub(super) const SERIES: [&str; 3] = ["received", "passed", "quarantined"];

/// A grouped bar chart of received / passed / quarantined by month.
pub(super) fn chart(out: &mut String, id: &str, months: &BTreeMap<Month, [u64; 3]>) -> fmt::Result {
    let (Some(first), Some(last)) = (months.keys().next(), months.keys().next_back()) else {
        return Ok(());
    };
    // Every month from the first to the last, so gaps show, unless that is very long.
    let span = (last.year - first.year) * 12 + last.month as i32 - first.month as i32 + 1;
    let series: Vec<(Month, [u64; 3])> = if span <= 120 {
        let mut all = Vec::new();
        let mut month = *first;
        while month <= *last {
            all.push((month, months.get(&month).copied().unwrap_or_default()));
            month = month.next();
        }
        all
    } else {
        months.iter().map(|(m, v)| (*m, *v)).collect()
    };
    let max = series.iter().flat_map(|(_, v)| v.iter().copied()).max().unwrap_or(0).max(1);
    const BAR: u64 = 12;
    const GROUP: u64 = 3 * BAR + 12;
    const LEFT: u64 = 64;
    const TOP: u64 = 16;
    const PLOT: u64 = 160;
    let n = series.len() as u64;
    let width = (LEFT + n * GROUP + 16).max(320);
    let height = TOP + PLOT + 36;
    let label_every = n.div_ceil(24).max(1);
    writeln!(
        out,
        "<p class=\"legend muted\">Records by month under {id}:\
         <span style=\"background:{}\"></span>received<span style=\"background:{}\"></span>passed\
         <span style=\"background:{}\"></span>quarantined</p>\n\
         <svg width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\" \
         aria-label=\"Records received, passed and quarantined by month under {id}\" \
         font-family=\"system-ui, sans-serif\" font-size=\"10\">",
        COLOURS[0],
        COLOURS[1],
        COLOURS[2],
        id = esc(id),
    )?;
    let base = TOP + PLOT;
    writeln!(
        out,
        "<line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{}\" y2=\"{TOP}\" stroke=\"#ddd\"/>\
         <line x1=\"{LEFT}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\" stroke=\"#888\"/>\
         <text x=\"{}\" y=\"{}\" text-anchor=\"end\">{}</text><text x=\"{}\" y=\"{base}\" text-anchor=\"end\">0</text>",
        width - 8,
        width - 8,
        LEFT - 4,
        TOP + 4,
        num(max),
        LEFT - 4,
    )?;
    for (i, (month, values)) in series.iter().enumerate() {
        let x0 = LEFT + i as u64 * GROUP + 6;
        for (k, value) in values.iter().enumerate() {
            let h = value.saturating_mul(PLOT) / max;
            let h = if *value > 0 { h.max(1) } else { 0 };
            write!(
                out,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{h}\" fill=\"{}\"><title>{month} {}: {}</title></rect>",
                x0 + k as u64 * BAR,
                base - h,
                BAR - 1,
                COLOURS[k],
                SERIES[k],
                num(*value)
            )?;
        }
        if (i as u64).is_multiple_of(label_every) {
            write!(out, "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">{month}</text>", x0 + 3 * BAR / 2, base + 14)?;
        }
        out.push('\n');
    }
    out.push_str("</svg>\n");
    Ok(())
}
