//! Calendar months and quarters of entry times.

use std::fmt;

use tellonce_schemas::identifiers::dates;

/// A calendar quarter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Quarter {
    pub(super) year: i32,
    pub(super) quarter: u32,
}

impl Quarter {
    pub(super) fn of_day(day: i32) -> Quarter {
        let (year, month, _) = dates::civil_from_days(day);
        Quarter { year, quarter: (month - 1) / 3 + 1 }
    }

    pub(super) fn previous(self) -> Quarter {
        if self.quarter == 1 {
            Quarter { year: self.year - 1, quarter: 4 }
        } else {
            Quarter { year: self.year, quarter: self.quarter - 1 }
        }
    }

    pub(super) fn months(self) -> &'static str {
        match self.quarter {
            1 => "January to March",
            2 => "April to June",
            3 => "July to September",
            _ => "October to December",
        }
    }
}

impl fmt::Display for Quarter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} Q{}", self.year, self.quarter)
    }
}

/// A calendar month.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Month {
    pub(super) year: i32,
    pub(super) month: u32,
}

impl Month {
    pub(super) fn of_day(day: i32) -> Month {
        let (year, month, _) = dates::civil_from_days(day);
        Month { year, month }
    }

    pub(super) fn next(self) -> Month {
        if self.month == 12 {
            Month { year: self.year + 1, month: 1 }
        } else {
            Month { year: self.year, month: self.month + 1 }
        }
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// "2026 Q4", or "undated" for an entry whose time did not parse.
pub(super) fn quarter_label(q: Option<Quarter>) -> String {
    q.map_or_else(|| "undated".to_string(), |q| q.to_string())
}
