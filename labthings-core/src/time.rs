//! Wall-clock times on the wire: RFC 3339, UTC, microseconds, `Z`.

use chrono::{DateTime, SecondsFormat, Utc};

/// Format `time` as the wire does, e.g. `2026-11-29T15:05:50.045973Z`: fixed width for years
/// 0–9999, so text order is time order (the history compares such texts).
///
/// Written digit by digit: an invocation's answer and its history rows write several, and
/// chrono's formatter (through `core::fmt`) cost ~2,100 instructions each (`bench/profiles/`).
/// Years outside 0–9999, which RFC 3339 can't write in four digits, are left to chrono; the
/// text is chrono's in every case (tested).
pub fn rfc3339(time: DateTime<Utc>) -> String {
    use chrono::{Datelike as _, Timelike as _};
    // `DateTime`'s own accessors each convert to local time first (an offset added, checked).
    let utc = time.naive_utc();
    let year = utc.year();
    if !(0..=9999).contains(&year) {
        return time.to_rfc3339_opts(SecondsFormat::Micros, true);
    }
    // A leap second shows as second 60, as chrono writes it.
    let (second, nanos) = match utc.nanosecond() {
        n if n >= 1_000_000_000 => (utc.second() + 1, n - 1_000_000_000),
        n => (utc.second(), n),
    };
    let mut text = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut value: u32| {
        for slot in text[at..at + width].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year as u32);
    put(5, 2, utc.month());
    put(8, 2, utc.day());
    put(11, 2, utc.hour());
    put(14, 2, utc.minute());
    put(17, 2, second);
    put(20, 6, nanos / 1000);
    // ASCII digits and punctuation, one char each.
    text.iter().map(|&byte| char::from(byte)).collect()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn the_text_is_chronos() {
        let chrono = |time: DateTime<Utc>| time.to_rfc3339_opts(SecondsFormat::Micros, true);
        let times = [
            Utc::now(),
            Utc.with_ymd_and_hms(2026, 12, 6, 9, 5, 3).unwrap(),
            Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(9999, 12, 31, 23, 59, 59).unwrap()
                + chrono::Duration::nanoseconds(999_999_999),
            Utc.with_ymd_and_hms(2016, 12, 31, 23, 59, 59).unwrap()
                + chrono::Duration::microseconds(1),
            Utc.with_ymd_and_hms(-5, 3, 1, 0, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(12345, 3, 1, 0, 0, 0).unwrap(),
        ];
        for time in times {
            assert_eq!(rfc3339(time), chrono(time), "{time:?}");
        }
        // A leap second (chrono keeps it in the nanoseconds).
        let leap = chrono::NaiveDate::from_ymd_opt(2016, 12, 31)
            .unwrap()
            .and_hms_nano_opt(23, 59, 59, 1_500_000_000)
            .unwrap()
            .and_utc();
        assert_eq!(rfc3339(leap), chrono(leap));
    }
}
