//! What turns the server's happenings into history rows: an [`InvocationObserver`] on every
//! invocation and a [`PropertyObserver`] on every Thing. Each call builds its row from values
//! in hand and queues it; the writer thread does the rest.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use labthings_core::{Blob, PropertyKind, PropertyObserver, Thing};
use serde::ser::Serializer as _;
use serde_json::Value;

use crate::history::record::{BlobContent, BlobRow, Finished, LogLine, Requested, Row, timestamp};
use crate::history::writer::Writer;
use crate::runtime::invocation::{Invocation, InvocationObserver, RunState};
use crate::runtime::provenance;

/// A served Thing, as the history describes it.
pub struct RecordedThing {
    pub thing: Arc<dyn Thing>,
    /// The SHA-256 of its TD (as served at the server's own address), hex.
    pub td_sha256: String,
}

impl RecordedThing {
    /// `thing`, whose TD serialises to `td`.
    pub fn new(thing: Arc<dyn Thing>, td: &[u8]) -> Self {
        use sha2::{Digest as _, Sha256};
        Self {
            thing,
            td_sha256: data_encoding::HEXLOWER.encode(&Sha256::digest(td)),
        }
    }
}

/// Queues a row for every invocation change, property write and event.
pub struct Recorder {
    writer: Arc<Writer>,
    things: HashMap<String, RecordedThing>,
}

impl std::fmt::Debug for Recorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recorder").finish_non_exhaustive()
    }
}

impl Recorder {
    pub fn new(writer: Arc<Writer>, things: HashMap<String, RecordedThing>) -> Self {
        Self { writer, things }
    }

    /// Record the saved settings applied at start-up (before any observer was bound), as
    /// writes from the `settings load`.
    pub fn settings_loaded(&self, applied: Vec<(String, String, Value)>) {
        let time = timestamp(Utc::now());
        for (thing, property, value) in applied {
            self.writer.send(Row::PropertyWrite {
                thing,
                property,
                value: json(&value),
                time: time.clone(),
                source: provenance::WriteSource::SettingsLoad.as_str().into(),
                invocation: None,
            });
        }
    }

    /// The values of the Thing's data properties and settings (memory only: functional
    /// properties may talk to hardware, and are left out).
    fn snapshot(&self, thing: &str) -> (String, String) {
        let Some(recorded) = self.things.get(thing) else {
            return ("{}".into(), String::new());
        };
        // Written as it is read: no `Map` of owned names and values built to be serialised
        // once, and serde_json's writer rather than `Value`'s `Display` (through `core::fmt`).
        let thing = &recorded.thing;
        let values = thing
            .metadata()
            .properties
            .iter()
            .filter(|property| property.kind != PropertyKind::Functional)
            .filter_map(|property| {
                let value = thing.read_property(property.name).ok()?;
                Some((property.name, value))
            });
        let mut out = Vec::with_capacity(128);
        let written = serde_json::Serializer::new(&mut out).collect_map(values);
        // Serialising names and JSON values into a buffer can't fail, and writes UTF-8.
        let snapshot = match written.map(|()| String::from_utf8(out)) {
            Ok(Ok(snapshot)) => snapshot,
            _ => "{}".into(),
        };
        (snapshot, recorded.td_sha256.clone())
    }
}

/// `value` as JSON text: serde_json's writer into a buffer, which `Value::to_string` (its
/// `Display`, through `core::fmt`) costs several times over.
fn json(value: &Value) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| value.to_string())
}

impl InvocationObserver for Recorder {
    fn status_changed(
        &self,
        _action: &'static str,
        _id: labthings_core::InvocationId,
        _status: labthings_protocol::InvocationStatus,
        _progress: Option<f64>,
    ) {
    }

    fn transitioned(&self, invocation: &Invocation, state: &RunState) {
        use labthings_protocol::InvocationStatus as S;
        let row = match state.status {
            S::Pending => {
                let (snapshot, td_sha256) = self.snapshot(&invocation.thing);
                let requester = &invocation.requester;
                Row::Requested(Box::new(Requested {
                    id: invocation.id.to_string(),
                    thing: invocation.thing.to_string(),
                    action: invocation.action.to_owned(),
                    input: json(&invocation.input),
                    time_requested: timestamp(invocation.time_requested),
                    requester: requester.label.as_deref().unwrap_or("anonymous").to_owned(),
                    peer: requester.peer.map(|peer| peer.to_string()),
                    snapshot,
                    td_sha256,
                    started: None,
                    finished: None,
                }))
            }
            S::Running => Row::Started {
                id: invocation.id.to_string(),
                time: timestamp(state.time_started.unwrap_or_else(Utc::now)),
            },
            status => Row::Finished(Box::new(Finished {
                id: invocation.id.to_string(),
                status: status.as_str().into(),
                time_started: state.time_started.map(timestamp),
                time_completed: timestamp(state.time_completed.unwrap_or_else(Utc::now)),
                output: state.output.as_ref().map(json),
                error: state
                    .error
                    .as_ref()
                    .and_then(|problem| serde_json::to_string(problem).ok()),
                log: invocation
                    .log
                    .snapshot()
                    .into_iter()
                    .map(|record| LogLine {
                        time: timestamp(record.created),
                        level: record.level.name().into(),
                        message: record.message,
                        exception_type: record.exception_type,
                    })
                    .collect(),
                blobs: state.blobs.iter().map(blob_row).collect(),
            })),
        };
        self.writer.send(row);
    }
}

fn blob_row(blob: &Blob) -> BlobRow {
    BlobRow {
        id: blob.id().to_string(),
        media_type: blob.media_type().to_owned(),
        content: match blob.data() {
            labthings_core::blob::Data::Bytes(bytes) => BlobContent::Bytes(bytes.clone()),
            labthings_core::blob::Data::File(path) => BlobContent::File(path.clone()),
        },
    }
}

impl PropertyObserver for Recorder {
    fn property_changed(&self, thing: &str, property: &str, value: &Value) {
        let provenance = provenance::current();
        self.writer.send(Row::PropertyWrite {
            thing: thing.to_owned(),
            property: property.to_owned(),
            value: json(value),
            time: timestamp(Utc::now()),
            source: provenance.source.as_str().into(),
            invocation: provenance.invocation.map(|id| id.to_string()),
        });
    }

    fn event_emitted(&self, thing: &str, event: &str, data: &Value) {
        self.writer.send(Row::Event {
            thing: thing.to_owned(),
            event: event.to_owned(),
            data: json(data),
            time: timestamp(Utc::now()),
        });
    }
}
