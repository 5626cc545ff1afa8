//! Why a server could not start.

use std::net::SocketAddr;

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// A Thing name that isn't a URL segment.
    #[error("invalid Thing name `{0}`: names may use only letters, digits, `_` and `-`")]
    InvalidName(String),
    /// A Thing name one of the server's routes has.
    #[error("the Thing name `{0}` is taken by one of the server's own routes")]
    ReservedName(String),
    /// Two Things with one name.
    #[error("two Things are named `{0}`")]
    DuplicateName(String),
    /// An API prefix that isn't empty or `/…`.
    #[error("invalid API prefix `{0}`: it must be empty or start with `/` and not end with `/`")]
    InvalidPrefix(String),
    /// A slot that can't be filled.
    #[error("slot `{slot}` of Thing `{thing}`: {problem}")]
    Slot {
        /// The Thing.
        thing: String,
        /// The slot.
        slot: String,
        /// What is wrong.
        problem: String,
    },
    /// An `#[on_start]` hook failed.
    #[error("Thing `{thing}` failed to start: {title}: {detail}")]
    StartHook {
        /// The Thing.
        thing: String,
        /// The error's title.
        title: String,
        /// The error's message.
        detail: String,
    },
    /// The address can't be listened on.
    #[error("could not listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// A Thing's id can't be kept in the settings folder.
    #[error("could not keep the Thing id in {path}: {source}")]
    ThingId {
        /// The id file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The MQTT configuration is unusable (a bad URL, an unreadable password file).
    #[error(transparent)]
    Mqtt(#[from] crate::mqtt::config::MqttConfigError),
    /// The history could not be opened (e.g. a newer server's file): the server refuses to
    /// start rather than run without the record it was asked to keep.
    #[error("{0}")]
    History(#[from] crate::history::OpenError),
    /// The settings writer's thread can't start.
    #[error("could not start the settings writer: {0}")]
    Settings(std::io::Error),
    /// A schema requests are validated against uses JSON Schema the validator doesn't
    /// implement: it would be passed over in silence, so the server refuses to start.
    #[error("Thing `{thing}`, {affordance}: {problem}")]
    UnsupportedSchema {
        /// The Thing.
        thing: String,
        /// The affordance whose schema it is.
        affordance: String,
        /// The keyword not implemented.
        problem: labthings_core::validate::UnsupportedKeyword,
    },
    /// An endpoint a hand-written `Thing` declares can't be served (`#[thing]` refuses the
    /// same at compile time).
    #[error("Thing `{thing}`, endpoint `{path}`: {problem}")]
    Endpoint {
        /// The Thing.
        thing: String,
        /// The endpoint's path.
        path: String,
        /// What is wrong.
        problem: String,
    },
}
