//! IMF-fixdate (`Sun, 01 Feb 2026 00:00:00 GMT`) and RFC 3339 UTC text for Unix seconds, for
//! Flask's `Expires` and its tagged datetimes, formatted and parsed by `time`.

use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

/// Werkzeug's `http_date` form.
const IMF_FIXDATE: &[BorrowedFormatItem<'static>] = format_description!(
    "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
);
/// The form a tagged datetime takes in a session struct.
const RFC3339_UTC: &[BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");

/// The instant, clamped to the years 1 to 9999 (Python's `datetime` range).
fn utc(secs: i64) -> OffsetDateTime {
    const FIRST: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
    const LAST: i64 = 253_402_300_799; // 9999-12-31T23:59:59Z
    OffsetDateTime::from_unix_timestamp(secs.clamp(FIRST, LAST))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

fn format(secs: i64, form: &[BorrowedFormatItem<'_>]) -> String {
    utc(secs).format(form).unwrap_or_default()
}

fn parse(text: &str, form: &[BorrowedFormatItem<'_>]) -> Option<i64> {
    let secs = PrimitiveDateTime::parse(text, form)
        .ok()?
        .assume_utc()
        .unix_timestamp();
    // `time` reads the weekday without checking it against the date: the text must be exactly
    // what the date formats to.
    (format(secs, form) == text).then_some(secs)
}

/// `Sun, 01 Feb 2026 00:00:00 GMT`.
pub(crate) fn imf_fixdate(secs: i64) -> String {
    format(secs, IMF_FIXDATE)
}

/// Parses an IMF-fixdate strictly (the form Flask writes), weekday included.
pub(crate) fn parse_imf_fixdate(text: &str) -> Option<i64> {
    parse(text, IMF_FIXDATE)
}

/// `2025-12-24T18:30:05Z`.
pub(crate) fn rfc3339(secs: i64) -> String {
    format(secs, RFC3339_UTC)
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn parse_rfc3339(text: &str) -> Option<i64> {
    parse(text, RFC3339_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_dates() {
        assert_eq!(imf_fixdate(0), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(imf_fixdate(1_769_904_000), "Sun, 01 Feb 2026 00:00:00 GMT");
        assert_eq!(imf_fixdate(1_766_601_005), "Wed, 24 Dec 2025 18:30:05 GMT");
        assert_eq!(rfc3339(1_766_601_005), "2025-12-24T18:30:05Z");
        assert_eq!(imf_fixdate(951_782_400), "Tue, 29 Feb 2000 00:00:00 GMT");
        assert_eq!(imf_fixdate(i64::MAX), "Fri, 31 Dec 9999 23:59:59 GMT");
    }

    #[test]
    fn parses_what_it_formats_and_nothing_else() {
        for secs in [0, 951_782_400, 1_766_601_005, 4_102_444_800, -86_400] {
            assert_eq!(parse_imf_fixdate(&imf_fixdate(secs)), Some(secs));
            assert_eq!(parse_rfc3339(&rfc3339(secs)), Some(secs));
        }
        assert_eq!(parse_imf_fixdate("Mon, 24 Dec 2025 18:30:05 GMT"), None);
        assert_eq!(parse_imf_fixdate("Wed, 31 Feb 2025 18:30:05 GMT"), None);
        assert_eq!(parse_imf_fixdate("Wed, 24 Dec 2025 18:30:05 UTC"), None);
        assert_eq!(parse_rfc3339("2025-12-24 18:30:05Z"), None);
        assert_eq!(parse_rfc3339("2025-12-24T25:30:05Z"), None);
    }
}
