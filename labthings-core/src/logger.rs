//! The per-invocation log: what an action reports while it runs.
//!
//! Records go into the invocation's own bounded log (served in the invocation JSON) and out
//! through `tracing`, tagged with the invocation id, so operators see them in the server log.

use std::borrow::Cow;
use std::fmt;
use std::panic::Location;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::level_filters::LevelFilter;

use crate::id::InvocationId;
use crate::log_budget::LogBudget;
use crate::log_records::{PackedRecords, RecordView};
use crate::time::rfc3339;

/// How many records an invocation keeps; older ones are dropped first.
pub const LOG_CAPACITY: usize = 1000;

/// How many bytes an invocation's log holds by default (see [`InvocationLog::bytes`]); older
/// records are dropped first, so one chatty action can't hold much memory whatever it logs.
pub const LOG_BYTES: usize = 256 * 1024;

/// The `tracing` target of records written through a [`Logger`]. The capture of other
/// `tracing` events skips this target, because the `Logger` already stored those records.
pub const LOGGER_TARGET: &str = "labthings::invocation";

/// Severity of a log record, with Python's `logging` names and numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum LogLevel {
    /// Detail for debugging (captured with `--debug`).
    Debug = 0,
    /// Normal operation.
    Info = 1,
    /// Something unexpected that the action survived.
    Warning = 2,
    /// A failure.
    Error = 3,
}

impl LogLevel {
    /// Python's level name (`levelname`).
    pub fn name(self) -> &'static str {
        match self {
            LogLevel::Debug => "DEBUG",
            LogLevel::Info => "INFO",
            LogLevel::Warning => "WARNING",
            LogLevel::Error => "ERROR",
        }
    }

    /// Python's level number (`levelno`).
    pub fn number(self) -> u8 {
        match self {
            LogLevel::Debug => 10,
            LogLevel::Info => 20,
            LogLevel::Warning => 30,
            LogLevel::Error => 40,
        }
    }

    /// The `tracing` filter that lets this level and more severe ones through.
    pub fn to_level_filter(self) -> LevelFilter {
        match self {
            LogLevel::Debug => LevelFilter::DEBUG,
            LogLevel::Info => LevelFilter::INFO,
            LogLevel::Warning => LevelFilter::WARN,
            LogLevel::Error => LevelFilter::ERROR,
        }
    }

    fn from_number(raw: u8) -> Self {
        match raw {
            0 => LogLevel::Debug,
            1 => LogLevel::Info,
            2 => LogLevel::Warning,
            _ => LogLevel::Error,
        }
    }

    pub(crate) fn from_tracing(level: &tracing::Level) -> Self {
        match *level {
            tracing::Level::ERROR => LogLevel::Error,
            tracing::Level::WARN => LogLevel::Warning,
            tracing::Level::INFO => LogLevel::Info,
            _ => LogLevel::Debug,
        }
    }
}

/// The least severe level that enters invocation logs, through a [`Logger`] or by capture of
/// `tracing` events (stored as the `LogLevel` discriminant).
static CAPTURE_LEVEL: AtomicU8 = AtomicU8::new(LogLevel::Info as u8);

/// Set the least severe level kept in invocation logs (default: INFO, as Python's loggers).
/// A server started with `--debug` lowers it to DEBUG.
pub fn set_capture_level(level: LogLevel) {
    CAPTURE_LEVEL.store(level as u8, Ordering::Relaxed);
    // Level hints are cached per `tracing` callsite; make tracing ask again.
    tracing::callsite::rebuild_interest_cache();
}

/// The least severe level kept in invocation logs.
pub(crate) fn capture_level() -> LogLevel {
    LogLevel::from_number(CAPTURE_LEVEL.load(Ordering::Relaxed))
}

/// One entry of an invocation's log, serialised in the reference's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct LogRecord {
    /// The message.
    pub message: String,
    /// Its level.
    pub level: LogLevel,
    /// The source file that logged it.
    pub filename: String,
    /// The line in that file.
    pub lineno: u32,
    /// When it was logged.
    pub created: DateTime<Utc>,
    /// The error type, for records that describe a failure (e.g. `Panic`).
    pub exception_type: Option<String>,
}

impl LogRecord {
    /// A record written now, at `filename:lineno`, that describes no failure.
    pub fn new(level: LogLevel, message: String, filename: &str, lineno: u32) -> Self {
        Self {
            message,
            level,
            filename: filename.to_owned(),
            lineno,
            created: Utc::now(),
            exception_type: None,
        }
    }
}

impl Serialize for LogRecord {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        RecordView {
            message: Cow::Borrowed(&self.message),
            level: self.level,
            filename: Cow::Borrowed(&self.filename),
            lineno: self.lineno,
            created: self.created,
            exception_type: self.exception_type.as_deref().map(Cow::Borrowed),
        }
        .serialize(serializer)
    }
}

impl Serialize for RecordView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut s = serializer.serialize_struct("LogRecord", 8)?;
        s.serialize_field("message", &self.message)?;
        s.serialize_field("levelname", self.level.name())?;
        s.serialize_field("levelno", &self.level.number())?;
        s.serialize_field("lineno", &self.lineno)?;
        s.serialize_field("filename", &self.filename)?;
        s.serialize_field("created", &rfc3339(self.created))?;
        s.serialize_field("exception_type", &self.exception_type)?;
        s.serialize_field("traceback", &Option::<String>::None)?;
        s.end()
    }
}

/// The bounded log of one invocation, shared by its [`Logger`] and the server's record.
///
/// It keeps the newest records within [`LOG_CAPACITY`] records and a byte limit
/// ([`LOG_BYTES`] unless made [`with_byte_limit`](Self::with_byte_limit)), and counts what it
/// dropped: the serialised log then opens with a WARNING record saying how many earlier
/// records were dropped. Its records are packed into two rings (see `log_records.rs`): once
/// they are as large as the limits let them grow, a new record reuses the oldest's bytes.
#[derive(Debug)]
pub struct InvocationLog {
    kept: Mutex<Kept>,
    byte_limit: usize,
}

#[derive(Debug, Default)]
struct Kept {
    records: PackedRecords,
    dropped: u64,
    /// While the invocation runs: the budget the records' rings are charged to.
    budget: Option<Arc<LogBudget>>,
}

impl Kept {
    fn drop_oldest(&mut self) {
        if self.records.pop_front() {
            self.dropped += 1;
        }
    }
}

impl Default for InvocationLog {
    fn default() -> Self {
        Self::with_byte_limit(LOG_BYTES)
    }
}

impl InvocationLog {
    /// A log holding at most `byte_limit` bytes of records (and [`LOG_CAPACITY`] records).
    pub fn with_byte_limit(byte_limit: usize) -> Self {
        Self {
            kept: Mutex::new(Kept::default()),
            byte_limit,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Kept> {
        // The rings change a whole record at a time; a panic elsewhere can't leave them torn.
        self.kept
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Append a record. The log grows to take it while it stays within [`LOG_CAPACITY`]
    /// records, its byte limit and what a shared [`LogBudget`] has left; beyond those the
    /// oldest records make room (the newest record is always kept).
    pub fn push(&self, record: LogRecord) {
        let text_len = PackedRecords::text_len(&record);
        let mut kept = self.lock();
        if kept.records.len() >= LOG_CAPACITY {
            kept.drop_oldest();
        }
        let mut grew = false;
        while let Some(grown) = kept.records.footprint_to_take(text_len, LOG_CAPACITY) {
            let growth = grown.saturating_sub(kept.records.footprint());
            let allowed = grown <= self.byte_limit
                && kept
                    .budget
                    .as_ref()
                    .is_none_or(|budget| budget.try_take(growth));
            if !allowed && !kept.records.is_empty() {
                kept.drop_oldest();
                continue;
            }
            if !allowed && let Some(budget) = &kept.budget {
                budget.take(growth);
            }
            let before = kept.records.footprint();
            kept.records.grow_to_take(text_len, LOG_CAPACITY);
            // Charge what the rings really grew by, had the allocator given more or less.
            let actual = kept.records.footprint().saturating_sub(before);
            if let Some(budget) = &kept.budget {
                if actual > growth {
                    budget.take(actual - growth);
                } else {
                    budget.give_back(growth - actual);
                }
            }
            grew = true;
            break;
        }
        kept.records.push(&record);
        let budget = kept.budget.clone().filter(|_| grew);
        drop(kept);
        // Outside the lock (the server's eviction reads every log's size), and only when
        // the log grew: recycling its own bytes adds nothing to the budget.
        if let Some(budget) = budget {
            budget.check_pressure();
        }
    }

    /// Charge this log's bytes, now and as it grows, to `budget` (while its invocation runs;
    /// see [`LogBudget`]).
    pub fn attach_budget(&self, budget: Arc<LogBudget>) {
        let mut kept = self.lock();
        let bytes = kept.records.footprint();
        budget.take(bytes);
        if let Some(old) = kept.budget.replace(budget) {
            old.give_back(bytes);
        }
    }

    /// Stop charging this log to its budget: its invocation has finished, and the server
    /// now counts (and may evict) it with the other records.
    pub fn release_budget(&self) {
        let mut kept = self.lock();
        if let Some(budget) = kept.budget.take() {
            budget.retire(kept.records.footprint());
        }
    }

    /// A copy of the records, oldest first (without the dropped-records notice).
    pub fn snapshot(&self) -> Vec<LogRecord> {
        self.lock().records.iter().map(|r| r.to_record()).collect()
    }

    /// How many records are held.
    pub fn len(&self) -> usize {
        self.lock().records.len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.lock().records.is_empty()
    }

    /// How many records were dropped to stay within the limits.
    pub fn dropped(&self) -> u64 {
        self.lock().dropped
    }

    /// The bytes the log holds in memory (its rings' capacities, used or not).
    pub fn bytes(&self) -> usize {
        self.lock().records.footprint()
    }

    /// Serialize the records as a JSON array without copying them out first, opened by a
    /// notice of the records dropped, if any.
    pub fn serialize_into<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let kept = self.lock();
        let notice = (kept.dropped > 0).then(|| LogRecord {
            created: kept.records.oldest_created().unwrap_or_else(Utc::now),
            ..LogRecord::new(
                LogLevel::Warning,
                format!("… {} earlier records dropped", kept.dropped),
                file!(),
                line!(),
            )
        });
        let length = kept.records.len() + usize::from(notice.is_some());
        let mut seq = serializer.serialize_seq(Some(length))?;
        if let Some(notice) = &notice {
            seq.serialize_element(notice)?;
        }
        for record in kept.records.iter() {
            seq.serialize_element(&record)?;
        }
        seq.end()
    }
}

/// Writes records into one invocation's log and to `tracing`.
///
/// Each method records the caller's file and line, as Python's logging does.
#[derive(Clone)]
pub struct Logger {
    id: InvocationId,
    log: Arc<InvocationLog>,
}

impl Logger {
    /// A logger writing into `log` on behalf of invocation `id`.
    pub fn new(id: InvocationId, log: Arc<InvocationLog>) -> Self {
        Self { id, log }
    }

    /// The invocation this logger writes for.
    pub fn invocation_id(&self) -> InvocationId {
        self.id
    }

    /// The log this logger writes into.
    pub fn log(&self) -> &Arc<InvocationLog> {
        &self.log
    }

    /// Log at DEBUG.
    #[track_caller]
    pub fn debug(&self, message: impl fmt::Display) {
        self.record(LogLevel::Debug, message, Location::caller());
    }

    /// Log at INFO.
    #[track_caller]
    pub fn info(&self, message: impl fmt::Display) {
        self.record(LogLevel::Info, message, Location::caller());
    }

    /// Log at WARNING.
    #[track_caller]
    pub fn warning(&self, message: impl fmt::Display) {
        self.record(LogLevel::Warning, message, Location::caller());
    }

    /// Log at ERROR.
    #[track_caller]
    pub fn error(&self, message: impl fmt::Display) {
        self.record(LogLevel::Error, message, Location::caller());
    }

    /// Write a record at `level` attributed to `location`.
    pub fn record(&self, level: LogLevel, message: impl fmt::Display, location: &Location<'_>) {
        let message = message.to_string();
        let (file, line) = (location.file(), location.line());
        let id = &self.id;
        match level {
            LogLevel::Debug => {
                tracing::debug!(target: LOGGER_TARGET, invocation_id = %id, file, line, "{message}")
            }
            LogLevel::Info => {
                tracing::info!(target: LOGGER_TARGET, invocation_id = %id, file, line, "{message}")
            }
            LogLevel::Warning => {
                tracing::warn!(target: LOGGER_TARGET, invocation_id = %id, file, line, "{message}")
            }
            LogLevel::Error => {
                tracing::error!(target: LOGGER_TARGET, invocation_id = %id, file, line, "{message}")
            }
        }
        if level < capture_level() {
            return;
        }
        self.log.push(LogRecord::new(level, message, file, line));
    }
}

impl fmt::Debug for Logger {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Logger")
            .field("invocation_id", &self.id)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_level_caller_and_time() {
        let log = Arc::new(InvocationLog::default());
        let logger = Logger::new(InvocationId::new(), log.clone());
        let before = Utc::now();
        logger.debug("not kept: DEBUG is below the default capture level");
        logger.warning(format_args!("value {}", 3));
        let line = line!() - 1;
        let records = log.snapshot();
        assert_eq!(records.len(), 1);
        let record = &records[0];
        assert_eq!(record.message, "value 3");
        assert_eq!(record.level, LogLevel::Warning);
        assert_eq!(record.lineno, line);
        assert!(
            record.filename.ends_with("logger.rs"),
            "{}",
            record.filename
        );
        assert!(record.created >= before);
        let json = serde_json::to_value(record).unwrap();
        assert_eq!(json["levelname"], "WARNING");
        assert_eq!(json["levelno"], 30);
        assert!(json["created"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn running_logs_share_a_budget_and_keep_their_newest() {
        let record = |n: usize| LogRecord::new(LogLevel::Info, format!("line {n:04}"), "f.rs", 1);
        // Room for one log's first rings (8 entries, 256 bytes of text) and a little more.
        let one_log = {
            let probe = InvocationLog::default();
            probe.push(record(0));
            probe.bytes()
        };
        let budget = Arc::new(LogBudget::new(one_log + 100, || {}));
        let first = InvocationLog::default();
        let second = InvocationLog::default();
        first.attach_budget(budget.clone());
        second.attach_budget(budget.clone());
        for n in 0..8 {
            first.push(record(n));
        }
        assert_eq!(first.len(), 8);
        assert_eq!(budget.used(), one_log);
        // The budget could not pay for the second's first rings; it got them anyway (a log
        // keeps its newest record), but can't grow them: it keeps its newest eight.
        for n in 0..12 {
            second.push(record(n));
        }
        let kept: Vec<String> = second.snapshot().into_iter().map(|r| r.message).collect();
        let newest: Vec<String> = (4..12).map(|n| record(n).message).collect();
        assert_eq!(kept, newest);
        assert_eq!(second.dropped(), 4);
        assert_eq!(budget.used(), first.bytes() + second.bytes());
        // Finished, the first's bytes count with the other records, no longer as running.
        first.release_budget();
        assert_eq!(budget.used(), second.bytes());
        first.push(record(8));
        assert_eq!(
            budget.used(),
            second.bytes(),
            "a released log charges nothing"
        );
        // Within the rings it has, a full log recycles its oldest records for free.
        let used = budget.used();
        for n in 0..100 {
            first.push(record(n));
        }
        assert_eq!(budget.used(), used);
    }

    #[test]
    fn keeps_only_the_newest_thousand() {
        let log = Arc::new(InvocationLog::default());
        let logger = Logger::new(InvocationId::new(), log.clone());
        for i in 0..1005 {
            logger.info(i);
        }
        let records = log.snapshot();
        assert_eq!(records.len(), LOG_CAPACITY);
        assert_eq!(records[0].message, "5");
        assert_eq!(records[999].message, "1004");
        assert_eq!(log.dropped(), 5);
    }

    #[test]
    fn keeps_the_newest_within_its_byte_limit_and_says_what_it_dropped() {
        let log = Arc::new(InvocationLog::with_byte_limit(4096));
        let logger = Logger::new(InvocationId::new(), log.clone());
        for i in 0..500 {
            logger.info(format_args!("{i:>100}"));
        }
        assert!(log.bytes() <= 4096, "{} bytes held", log.bytes());
        let records = log.snapshot();
        assert_eq!(
            records.last().unwrap().message.trim(),
            "499",
            "the newest is kept"
        );
        assert_eq!(log.dropped() as usize, 500 - records.len());

        let json = serde_json::to_value(SerializedLog(&log)).unwrap();
        let notice = &json[0];
        assert_eq!(
            notice["message"],
            format!("… {} earlier records dropped", 500 - records.len())
        );
        assert_eq!(notice["levelname"], "WARNING");
        assert_eq!(json.as_array().unwrap().len(), records.len() + 1);

        // One record larger than the limit is still kept, alone.
        logger.info("x".repeat(10_000));
        assert_eq!(log.len(), 1);
    }

    struct SerializedLog<'a>(&'a InvocationLog);

    impl Serialize for SerializedLog<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            self.0.serialize_into(serializer)
        }
    }
}
