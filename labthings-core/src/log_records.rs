//! One log's records, packed into two buffers instead of two allocations per record.
//!
//! A chatty action writes a thousand records; kept as separate `String`s they were two
//! small allocations each, freed in another order than they were made once the server
//! evicted their logs, and glibc's per-thread arenas kept the holes: with a 64 MiB budget,
//! 3,000 such invocations peaked at 135 MiB of RSS though the records counted 64 MiB. Packed,
//! a log is one ring of text (each record's message, file name and error type, back to back)
//! and one ring of fixed-size entries: the oldest record's bytes are reused by the newest, and
//! what a log holds is the two rings' capacities, counted exactly.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::mem::size_of;

use chrono::{DateTime, Utc};

use crate::logger::{LogLevel, LogRecord};

/// A record's fields but its text, which follows the previous record's in the text ring.
#[derive(Debug, Clone, Copy)]
struct Entry {
    created: DateTime<Utc>,
    lineno: u32,
    level: LogLevel,
    message: u32,
    filename: u32,
    /// The error type's length, for records describing a failure.
    exception_type: Option<u32>,
}

impl Entry {
    fn text_len(&self) -> usize {
        self.message as usize + self.filename as usize + self.exception_type.unwrap_or(0) as usize
    }
}

/// The records of one log, oldest first.
#[derive(Debug, Default)]
pub(crate) struct PackedRecords {
    entries: VecDeque<Entry>,
    text: VecDeque<u8>,
}

/// A record as it lies in the rings: its strings borrowed unless one wraps around the ring's
/// end.
pub(crate) struct RecordView<'a> {
    pub message: Cow<'a, str>,
    pub level: LogLevel,
    pub filename: Cow<'a, str>,
    pub lineno: u32,
    pub created: DateTime<Utc>,
    pub exception_type: Option<Cow<'a, str>>,
}

impl RecordView<'_> {
    pub fn to_record(&self) -> LogRecord {
        LogRecord {
            message: self.message.clone().into_owned(),
            level: self.level,
            filename: self.filename.clone().into_owned(),
            lineno: self.lineno,
            created: self.created,
            exception_type: self.exception_type.as_ref().map(|t| t.clone().into_owned()),
        }
    }
}

/// Lengths beyond `u32::MAX` bytes are cut (a log keeps far less than that anyway).
fn length(text: &str) -> u32 {
    u32::try_from(text.len()).unwrap_or(u32::MAX)
}

/// `text` cut to at most `u32::MAX` bytes, on a character boundary.
fn clipped(text: &str) -> &str {
    let mut end = text.len().min(u32::MAX as usize);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

impl PackedRecords {
    /// The bytes the two rings hold (their capacities, used or not).
    pub fn footprint(&self) -> usize {
        self.entries.capacity() * size_of::<Entry>() + self.text.capacity()
    }

    /// What the two rings would hold once grown to take one more record of `text_len`
    /// bytes, or `None` if it fits in what they hold now.
    pub fn footprint_to_take(&self, text_len: usize, max_records: usize) -> Option<usize> {
        let (entries, text) = self.capacities_to_take(text_len, max_records);
        (entries != self.entries.capacity() || text != self.text.capacity())
            .then(|| entries * size_of::<Entry>() + text)
    }

    /// The capacities (entries, text bytes) the rings need for one more record: what they
    /// have if it fits, else doubled (entries at most `max_records`).
    fn capacities_to_take(&self, text_len: usize, max_records: usize) -> (usize, usize) {
        let (len, capacity) = (self.entries.len(), self.entries.capacity());
        let entries = if len < capacity {
            capacity
        } else {
            (capacity * 2).max(8).min(max_records).max(len + 1)
        };
        let needed = self.text.len() + text_len;
        let text = if needed <= self.text.capacity() {
            self.text.capacity()
        } else {
            (self.text.capacity() * 2).max(needed).max(256)
        };
        (entries, text)
    }

    /// Grow the rings to what [`footprint_to_take`](Self::footprint_to_take) said.
    pub fn grow_to_take(&mut self, text_len: usize, max_records: usize) {
        let (entries, text) = self.capacities_to_take(text_len, max_records);
        self.entries.reserve_exact(entries - self.entries.len());
        self.text.reserve_exact(text - self.text.len());
    }

    /// The bytes a record's strings take in the text ring.
    pub fn text_len(record: &LogRecord) -> usize {
        clipped(&record.message).len()
            + clipped(&record.filename).len()
            + record
                .exception_type
                .as_deref()
                .map_or(0, |t| clipped(t).len())
    }

    /// Append a record (the rings grow if they must).
    pub fn push(&mut self, record: &LogRecord) {
        let (message, filename) = (clipped(&record.message), clipped(&record.filename));
        let exception_type = record.exception_type.as_deref().map(clipped);
        self.text.extend(message.as_bytes());
        self.text.extend(filename.as_bytes());
        if let Some(exception_type) = exception_type {
            self.text.extend(exception_type.as_bytes());
        }
        self.entries.push_back(Entry {
            created: record.created,
            lineno: record.lineno,
            level: record.level,
            message: length(message),
            filename: length(filename),
            exception_type: exception_type.map(length),
        });
    }

    /// Forget the oldest record; its bytes are free for the next ones.
    pub fn pop_front(&mut self) -> bool {
        let Some(oldest) = self.entries.pop_front() else {
            return false;
        };
        self.text.drain(..oldest.text_len());
        true
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn oldest_created(&self) -> Option<DateTime<Utc>> {
        self.entries.front().map(|entry| entry.created)
    }

    /// The records, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = RecordView<'_>> {
        let mut at = 0;
        self.entries.iter().map(move |entry| {
            let mut take = |len: u32| {
                let text = self.text_at(at, len as usize);
                at += len as usize;
                text
            };
            let message = take(entry.message);
            let filename = take(entry.filename);
            let exception_type = entry.exception_type.map(&mut take);
            RecordView {
                message,
                level: entry.level,
                filename,
                lineno: entry.lineno,
                created: entry.created,
                exception_type,
            }
        })
    }

    /// The `len` bytes of text at `at`, borrowed unless they wrap around the ring's end.
    fn text_at(&self, at: usize, len: usize) -> Cow<'_, str> {
        let (front, back) = self.text.as_slices();
        let bytes: Cow<'_, [u8]> = if at + len <= front.len() {
            Cow::Borrowed(&front[at..at + len])
        } else if at >= front.len() {
            Cow::Borrowed(&back[at - front.len()..at - front.len() + len])
        } else {
            Cow::Owned([&front[at..], &back[..at + len - front.len()]].concat())
        };
        // Whole strings went in, so this is UTF-8; lossy only to need no `unsafe`.
        match bytes {
            Cow::Borrowed(bytes) => String::from_utf8_lossy(bytes),
            Cow::Owned(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(message: &str) -> LogRecord {
        LogRecord::new(LogLevel::Info, message.to_owned(), "src/lib.rs", 7)
    }

    #[test]
    fn keeps_records_whole_across_the_rings_end() {
        let mut records = PackedRecords::default();
        let first = record("first");
        records.grow_to_take(PackedRecords::text_len(&first), 1000);
        records.push(&first);
        // Fill and recycle the text ring so later records wrap around its end.
        let capacity = records.text.capacity();
        for n in 0..(capacity * 3) {
            let next = LogRecord {
                exception_type: (n % 3 == 0).then(|| "Panic".to_owned()),
                ..record(&format!("é{n}"))
            };
            while records
                .footprint_to_take(PackedRecords::text_len(&next), 1000)
                .is_some()
                && records.len() > 1
            {
                records.pop_front();
            }
            records.grow_to_take(PackedRecords::text_len(&next), 1000);
            records.push(&next);
            let views: Vec<LogRecord> = records.iter().map(|view| view.to_record()).collect();
            assert_eq!(views.last(), Some(&next));
            assert!(
                views
                    .iter()
                    .all(|r| r.filename == "src/lib.rs" && r.message.starts_with('é')
                        || r.message == "first")
            );
        }
        assert_eq!(records.text.capacity(), capacity, "recycled, never grown");
    }

    #[test]
    fn the_footprint_is_the_capacity_of_both_rings() {
        let mut records = PackedRecords::default();
        assert_eq!(records.footprint(), 0);
        let one = record("hello");
        let grown = records.footprint_to_take(PackedRecords::text_len(&one), 1000);
        records.grow_to_take(PackedRecords::text_len(&one), 1000);
        assert_eq!(Some(records.footprint()), grown);
        records.push(&one);
        assert_eq!(
            records.footprint_to_take(PackedRecords::text_len(&one), 1000),
            None
        );
        assert_eq!(
            records.footprint(),
            8 * size_of::<Entry>() + 256,
            "room for eight records and 256 bytes of text"
        );
    }
}
