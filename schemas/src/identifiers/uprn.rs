//! Unique Property Reference Number: one to twelve digits, never zero.

use std::borrow::Cow;

use crate::check::Rule;

/// Validates a UPRN and returns it without leading zeros.
///
/// ```
/// use tellonce_schemas::identifiers::uprn;
/// assert_eq!(uprn::normalise("000100023336956").unwrap_err().code(), "uprn.format");
/// assert_eq!(uprn::normalise("0100023336956").unwrap(), "100023336956");
/// ```
pub fn normalise(raw: &str) -> Result<Cow<'_, str>, Rule> {
    if raw.is_empty() || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Rule::UprnFormat);
    }
    let trimmed = raw.trim_start_matches('0');
    if trimmed.is_empty() || trimmed.len() > 12 || raw.len() > 13 {
        return Err(Rule::UprnFormat);
    }
    Ok(Cow::Borrowed(trimmed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uprns_are_digits_up_to_twelve_and_not_zero() {
        assert_eq!(normalise("100023336956").unwrap(), "100023336956");
        assert_eq!(normalise("000000001234").unwrap(), "1234");
        assert_eq!(normalise("0"), Err(Rule::UprnFormat));
        assert_eq!(normalise("1000233369561"), Err(Rule::UprnFormat));
        assert_eq!(normalise("12a"), Err(Rule::UprnFormat));
    }
}
