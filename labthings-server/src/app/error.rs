//! Why a server could not start.

use std::net::SocketAddr;

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("invalid Thing name `{0}`: names may use only letters, digits, `_` and `-`")]
    InvalidName(String),
    #[error("the Thing name `{0}` is taken by one of the server's own routes")]
    ReservedName(String),
    #[error("two Things are named `{0}`")]
    DuplicateName(String),
    #[error("invalid API prefix `{0}`: it must be empty or start with `/` and not end with `/`")]
    InvalidPrefix(String),
    #[error("slot `{slot}` of Thing `{thing}`: {problem}")]
    Slot {
        thing: String,
        slot: String,
        problem: String,
    },
    #[error("Thing `{thing}` failed to start: {title}: {detail}")]
    StartHook {
        thing: String,
        title: String,
        detail: String,
    },
    #[error("could not listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("could not keep the Thing id in {path}: {source}")]
    ThingId {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Mqtt(#[from] crate::mqtt::config::MqttConfigError),
    /// The history could not be opened (e.g. a newer server's file): the server refuses to
    /// start rather than run without the record it was asked to keep.
    #[error("{0}")]
    History(#[from] crate::history::OpenError),
    #[error("could not start the settings writer: {0}")]
    Settings(std::io::Error),
    /// A schema requests are validated against uses JSON Schema the validator doesn't
    /// implement: it would be passed over in silence, so the server refuses to start.
    #[error("Thing `{thing}`, {affordance}: {problem}")]
    UnsupportedSchema {
        thing: String,
        affordance: String,
        problem: labthings_core::validate::UnsupportedKeyword,
    },
    /// An endpoint a hand-written `Thing` declares can't be served (`#[thing]` refuses the
    /// same at compile time).
    #[error("Thing `{thing}`, endpoint `{path}`: {problem}")]
    Endpoint {
        thing: String,
        path: String,
        problem: String,
    },
}
