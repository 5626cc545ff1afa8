//! Wall-clock times on the wire: RFC 3339, UTC, microseconds, `Z`.

use chrono::{DateTime, SecondsFormat, Utc};

/// Format `time` as the wire does, e.g. `2026-11-29T15:05:50.045973Z`.
pub fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}
