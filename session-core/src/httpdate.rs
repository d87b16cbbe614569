//! IMF-fixdate (`Sun, 01 Feb 2026 00:00:00 GMT`) and RFC 3339 UTC text for Unix seconds.
#![cfg_attr(not(feature = "flask"), allow(dead_code))]

use std::fmt::Write as _;

const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A UTC calendar time, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Civil {
    pub(crate) year: i64,
    pub(crate) month: u32,
    pub(crate) day: u32,
    pub(crate) seconds_of_day: u32,
}

impl Civil {
    /// From Unix seconds (the proleptic Gregorian calendar, as in Howard Hinnant's algorithm).
    #[allow(
        clippy::cast_sign_loss,
        reason = "day, month and seconds are positive by construction"
    )]
    pub(crate) fn from_unix(secs: i64) -> Self {
        let days = secs.div_euclid(86_400);
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        let year = yoe + era * 400 + i64::from(month <= 2);
        Self {
            year,
            month,
            day,
            seconds_of_day: secs.rem_euclid(86_400) as u32,
        }
    }

    /// To Unix seconds; `None` for an impossible date.
    pub(crate) fn to_unix(self) -> Option<i64> {
        let leap = (self.year % 4 == 0 && self.year % 100 != 0) || self.year % 400 == 0;
        let month_days = [
            31,
            if leap { 29 } else { 28 },
            31,
            30,
            31,
            30,
            31,
            31,
            30,
            31,
            30,
            31,
        ];
        let valid_day = (1..=12).contains(&self.month)
            && self.day >= 1
            && self.day <= month_days[self.month as usize - 1];
        if !valid_day || self.seconds_of_day >= 86_400 {
            return None;
        }
        let y = self.year - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y.rem_euclid(400);
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        Some((era * 146_097 + doe - 719_468) * 86_400 + i64::from(self.seconds_of_day))
    }

    fn hms(self) -> (u32, u32, u32) {
        let s = self.seconds_of_day;
        (s / 3600, s / 60 % 60, s % 60)
    }
}

/// `Sun, 01 Feb 2026 00:00:00 GMT`.
pub(crate) fn imf_fixdate(secs: i64) -> String {
    let civil = Civil::from_unix(secs);
    let (h, m, s) = civil.hms();
    let weekday = DAYS[secs.div_euclid(86_400).rem_euclid(7) as usize];
    let mut out = String::with_capacity(29);
    let _ = write!(
        out,
        "{weekday}, {:02} {} {:04} {h:02}:{m:02}:{s:02} GMT",
        civil.day,
        MONTHS[civil.month as usize - 1],
        civil.year
    );
    out
}

/// Parses an IMF-fixdate strictly (the form Flask writes).
pub(crate) fn parse_imf_fixdate(text: &str) -> Option<i64> {
    let (weekday, rest) = text.split_once(", ")?;
    let parts: Vec<&str> = rest.split(' ').collect();
    let [day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let month = MONTHS.iter().position(|m| m == month)? as u32 + 1;
    let time: Vec<&str> = time.split(':').collect();
    let [h, m, s] = time.as_slice() else {
        return None;
    };
    let field = |t: &str, len: usize| {
        (t.len() == len && t.bytes().all(|b| b.is_ascii_digit()))
            .then(|| t.parse::<u32>().ok())
            .flatten()
    };
    let (h, m, s) = (field(h, 2)?, field(m, 2)?, field(s, 2)?);
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    let civil = Civil {
        year: i64::from(field(year, 4)?),
        month,
        day: field(day, 2)?,
        seconds_of_day: h * 3600 + m * 60 + s,
    };
    let secs = civil.to_unix()?;
    (DAYS[secs.div_euclid(86_400).rem_euclid(7) as usize] == weekday).then_some(secs)
}

/// `2025-12-24T18:30:05Z`.
pub(crate) fn rfc3339(secs: i64) -> String {
    let civil = Civil::from_unix(secs);
    let (h, m, s) = civil.hms();
    format!(
        "{:04}-{:02}-{:02}T{h:02}:{m:02}:{s:02}Z",
        civil.year, civil.month, civil.day
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn parse_rfc3339(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let shape = b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && b[19] == b'Z';
    if !shape {
        return None;
    }
    let num = |r: std::ops::Range<usize>| {
        text.get(r)
            .filter(|t| t.bytes().all(|c| c.is_ascii_digit()))?
            .parse::<u32>()
            .ok()
    };
    let (h, m, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    Civil {
        year: i64::from(num(0..4)?),
        month: num(5..7)?,
        day: num(8..10)?,
        seconds_of_day: h * 3600 + m * 60 + s,
    }
    .to_unix()
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
    }

    #[test]
    fn parses_what_it_formats_and_nothing_else() {
        for secs in [0, 951_782_400, 1_766_601_005, 4_102_444_800, -86_400] {
            assert_eq!(parse_imf_fixdate(&imf_fixdate(secs)), Some(secs));
            assert_eq!(parse_rfc3339(&rfc3339(secs)), Some(secs));
        }
        assert_eq!(parse_imf_fixdate("Mon, 24 Dec 2025 18:30:05 GMT"), None);
        assert_eq!(parse_imf_fixdate("Wed, 31 Feb 2025 18:30:05 GMT"), None);
        assert_eq!(parse_rfc3339("2025-12-24 18:30:05Z"), None);
    }
}
