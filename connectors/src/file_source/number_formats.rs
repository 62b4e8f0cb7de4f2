//! The two number formats that change what a cell means, not only how it looks: a number shown
//! with leading zeros (`00000000`, a case reference or a two-digit code stored as a number) and
//! a percentage (`0.0%`: the cell holds 0.931, the person reading the sheet sees 93.1).
//!
//! Read as Excel's General format shows the bare number, the first loses its zeros (the same
//! record sent once as CSV, once as a workbook, becomes two records; `01` no longer meets a
//! value map written for it) and the second is a hundred times too small, inside the range its
//! column allows. Every other format (thousands separators, decimals, currency, colours) shows
//! the same number, so the General form is kept. calamine gives number formats for `.xlsx`
//! only; an `.xls` or `.ods` cell is read as General whatever its format.

/// What a cell's number format does to the text it is read as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NumberStyle {
    /// As Excel's General format shows it.
    General,
    /// A whole number padded with zeros to this many digits.
    ZeroPadded(u8),
    /// A percentage: the number shown is a hundred times the cell's.
    Percent,
}

impl NumberStyle {
    /// The style of a format code (`None`: the General format).
    pub(super) fn of(code: Option<&str>) -> NumberStyle {
        let Some(code) = code else { return NumberStyle::General };
        // The first section formats positive numbers (and all, when it is the only one).
        let first = code.split(';').next().unwrap_or_default();
        let bare = without_brackets(first);
        if bare.len() >= 2 && bare.len() <= 30 && bare.bytes().all(|b| b == b'0') {
            return u8::try_from(bare.len()).map_or(NumberStyle::General, NumberStyle::ZeroPadded);
        }
        let placeholders = |b: u8| matches!(b, b'0' | b'#' | b'?' | b'.' | b',' | b' ');
        if bare.ends_with('%') && bare.bytes().filter(|&b| b == b'%').count() == 1 {
            let digits = &bare[..bare.len() - 1];
            if !digits.is_empty() && digits.bytes().all(placeholders) {
                return NumberStyle::Percent;
            }
        }
        NumberStyle::General
    }
}

/// A format section without its `[Red]`, `[>=100]` or `[$-en-GB]` parts.
fn without_brackets(section: &str) -> String {
    let mut out = String::with_capacity(section.len());
    let mut depth = 0u32;
    for c in section.chars() {
        match c {
            '[' => depth += 1,
            ']' => depth = depth.saturating_sub(1),
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// Writes `value` as a cell of `style` shows it, or returns false to have it written as General.
pub(super) fn write_styled(value: f64, style: NumberStyle, out: &mut String) -> bool {
    use std::fmt::Write as _;
    match style {
        NumberStyle::General => false,
        NumberStyle::ZeroPadded(width) => {
            // Only a whole, non-negative number is padded: anything else shows as General would.
            if !(value >= 0.0 && value.fract() == 0.0 && value < 1e15) {
                return false;
            }
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            let whole = value as u64;
            let _ = write!(out, "{whole:0width$}", width = usize::from(width));
            true
        }
        NumberStyle::Percent => {
            if !value.is_finite() {
                return false;
            }
            // Excel keeps 15 significant digits: 0.931 × 100 is 93.1, not 93.10000000000001.
            let shown: f64 = format!("{:.14e}", value * 100.0).parse().unwrap_or(value * 100.0);
            if shown.fract() == 0.0 && shown.abs() < 1e15 {
                #[allow(clippy::cast_possible_truncation)]
                let _ = write!(out, "{}", shown as i64);
            } else {
                let _ = write!(out, "{shown}");
            }
            true
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(value: f64, code: &str) -> String {
        let mut out = String::new();
        assert!(write_styled(value, NumberStyle::of(Some(code)), &mut out), "{code}");
        out
    }

    #[test]
    fn formats_that_change_the_meaning_are_told_from_those_that_only_change_the_look() {
        for (code, style) in [
            ("00000000", NumberStyle::ZeroPadded(8)),
            ("00", NumberStyle::ZeroPadded(2)),
            ("[Blue]000000;[Red]-000000", NumberStyle::ZeroPadded(6)),
            ("0%", NumberStyle::Percent),
            ("0.0%", NumberStyle::Percent),
            ("#,##0.00%", NumberStyle::Percent),
            ("General", NumberStyle::General),
            ("0", NumberStyle::General),
            ("0.00", NumberStyle::General),
            ("#,##0", NumberStyle::General),
            ("\"Ref \"0000", NumberStyle::General),
            ("dd/mm/yyyy", NumberStyle::General),
            ("0%\" done\"", NumberStyle::General),
        ] {
            assert_eq!(NumberStyle::of(Some(code)), style, "{code}");
        }
        assert_eq!(NumberStyle::of(None), NumberStyle::General);
    }

    #[test]
    fn a_cell_reads_as_the_sheet_shows_it() {
        assert_eq!(shown(1.0, "00000000"), "00000001");
        assert_eq!(shown(123_456_789.0, "0000"), "123456789", "wider than the format: all digits");
        assert_eq!(shown(0.931, "0.0%"), "93.1");
        assert_eq!(shown(0.5, "0%"), "50");
        assert_eq!(shown(1.0, "0%"), "100");
        assert_eq!(shown(0.123_456, "0.0%"), "12.3456", "the value, not the rounding the format shows");
        let mut out = String::new();
        assert!(!write_styled(2.5, NumberStyle::ZeroPadded(4), &mut out), "a fraction is not padded");
        assert!(!write_styled(-3.0, NumberStyle::ZeroPadded(4), &mut out));
        assert!(!write_styled(7.0, NumberStyle::General, &mut out));
        assert!(out.is_empty());
    }
}
