//! Command messages — property writes and action invocations — carried out through the same
//! paths as HTTP `PUT` and `POST` (`ops/`): the same validation, global lock, settings
//! persistence and observers, an invocation visible over HTTP with its log. A refused command
//! is never applied: it is reported on `{prefix}/{thing}/errors` as problem JSON naming the
//! topic, since MQTT has no reply to give it on.

use std::sync::Arc;

use bytes::Bytes;
use labthings_core::{PropertyError, ValidationErrors};
use labthings_protocol::mqtt::{Command, ThingTopics};
use labthings_protocol::problem::Problem;
use labthings_protocol::validation::ValidationIssue;
use rumqttc::Publish;
use serde_json::Value;
use tokio::sync::mpsc;

use crate::mqtt::outbox::Outbox;
use crate::ops::invoke::{InvokeError, launch};
use crate::ops::property::{OpError, write};
use crate::runtime::invocation::Requester;
use crate::runtime::provenance::WriteSource;
use crate::state::ServerState;

/// Commands a Thing's link holds while earlier ones run; beyond, a command is refused.
pub const QUEUE: usize = 64;

/// Start carrying out the commands for `state.things[index]`, one at a time in arrival order
/// (so the last write sent is the last applied); the sender to hand them to.
pub fn spawn(
    state: Arc<ServerState>,
    index: usize,
    topics: ThingTopics,
    outbox: Arc<Outbox>,
) -> mpsc::Sender<Publish> {
    let (sender, mut received) = mpsc::channel::<Publish>(QUEUE);
    tokio::spawn(async move {
        while let Some(publish) = received.recv().await {
            if let Err(refusal) = carry_out(&state, index, &topics, &publish).await {
                report(&outbox, &topics, &publish.topic, refusal);
            }
        }
    });
    sender
}

/// Why a command was not carried out.
#[derive(Debug)]
struct Refusal {
    /// Boxed: a refusal is rare, and `Result`s carrying it stay small.
    problem: Box<Problem>,
    issues: Vec<ValidationIssue>,
}

impl From<Problem> for Refusal {
    fn from(problem: Problem) -> Self {
        Self {
            problem: Box::new(problem),
            issues: Vec::new(),
        }
    }
}

impl Refusal {
    fn invalid(errors: ValidationErrors) -> Self {
        let detail = match errors.0.first() {
            Some(issue) => format!("{}: {}", issue.location(), issue.msg),
            None => "the payload is not valid".to_owned(),
        };
        Self {
            problem: Box::new(Problem::about_blank(422, "ValidationError", detail)),
            issues: errors.0,
        }
    }
}

async fn carry_out(
    state: &ServerState,
    index: usize,
    topics: &ThingTopics,
    publish: &Publish,
) -> Result<(), Refusal> {
    let served = state
        .things
        .get(index)
        .ok_or_else(|| not_found("no such Thing"))?;
    let metadata = served.thing.metadata();
    match topics.command(&publish.topic) {
        Some(Command::WriteProperty(name)) => {
            let property = metadata
                .property(name)
                .ok_or_else(|| not_found(&format!("no property `{name}`")))?;
            if property.read_only {
                return Err(Problem::about_blank(
                    405,
                    "ReadOnly",
                    format!("the property `{name}` is read-only"),
                )
                .into());
            }
            let value = json(&publish.payload)?.ok_or_else(|| {
                Refusal::invalid(ValidationErrors::single(
                    "missing",
                    "Field required",
                    Value::Null,
                ))
            })?;
            write(state, served, property, value, WriteSource::Mqtt)
                .await
                .map_err(|error| match error {
                    OpError::Property(PropertyError::Invalid(errors)) => Refusal::invalid(errors),
                    OpError::Property(PropertyError::NotFound) => not_found(name),
                    OpError::Property(PropertyError::ReadOnly) => {
                        Problem::about_blank(405, "ReadOnly", "the property is read-only").into()
                    }
                    OpError::Property(PropertyError::Failed(failure)) => {
                        Problem::internal(failure.title, failure.detail).into()
                    }
                    OpError::Problem(problem) => problem.into(),
                })
        }
        Some(Command::InvokeAction(name)) => {
            let action = metadata
                .action(name)
                .ok_or_else(|| not_found(&format!("no action `{name}`")))?;
            let input = json(&publish.payload)?;
            launch(state, served, action, input, Requester::mqtt())
                .map(|_| ())
                .map_err(|error| match error {
                    InvokeError::Invalid(errors) => Refusal::invalid(errors),
                    InvokeError::NotFound => not_found(name),
                    InvokeError::Refused(problem) => problem.into(),
                })
        }
        None => Err(not_found("not a command topic")),
    }
}

fn not_found(detail: &str) -> Refusal {
    Problem::about_blank(404, "NotFound", detail).into()
}

/// The payload as JSON; empty (or only spaces): `None`.
fn json(payload: &Bytes) -> Result<Option<Value>, Refusal> {
    if payload.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    serde_json::from_slice(payload).map(Some).map_err(|error| {
        Problem::about_blank(
            422,
            "InvalidJSON",
            format!("the payload is not JSON: {error}"),
        )
        .into()
    })
}

/// Refuse a command because the queue is full.
pub fn refuse_busy(outbox: &Outbox, topics: &ThingTopics, topic: &str) {
    let problem = Problem::service_unavailable(
        "CommandQueueFull",
        "Too many MQTT commands are waiting; this one was dropped.",
    );
    report(outbox, topics, topic, problem.into());
}

/// Publish a refusal on the Thing's errors topic (not retained) and log it.
fn report(outbox: &Outbox, topics: &ThingTopics, topic: &str, refusal: Refusal) {
    tracing::warn!(%topic, "refused an MQTT command: {}", refusal.problem);
    let mut body = serde_json::to_value(&refusal.problem).unwrap_or(Value::Null);
    if let Value::Object(fields) = &mut body {
        fields.insert("topic".into(), Value::from(topic));
        if !refusal.issues.is_empty() {
            let issues = serde_json::to_value(&refusal.issues).unwrap_or(Value::Null);
            fields.insert("issues".into(), issues);
        }
    }
    let payload = Bytes::from(serde_json::to_vec(&body).unwrap_or_default());
    outbox.post(&topics.errors(), payload, false);
}
