//! The words of our attributes and their arguments, each written once (as `serde_derive`'s
//! `symbol.rs`), so a rename can't miss a copy and messages quote the same spelling the parser
//! matches.

use std::fmt;

use syn::{Attribute, Path};

#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Symbol(pub &'static str);

// Attributes.
pub const THING: Symbol = Symbol("thing");
pub const PROPERTY: Symbol = Symbol("property");
pub const SETTING: Symbol = Symbol("setting");
pub const SLOT: Symbol = Symbol("slot");
pub const EVENT: Symbol = Symbol("event");
pub const STREAM: Symbol = Symbol("stream");
pub const ACTION: Symbol = Symbol("action");
pub const ENDPOINT: Symbol = Symbol("endpoint");
pub const SETTER: Symbol = Symbol("setter");
pub const ON_START: Symbol = Symbol("on_start");
pub const ON_STOP: Symbol = Symbol("on_stop");
pub const PARAM: Symbol = Symbol("param");
pub const INJECT: Symbol = Symbol("inject");
pub const DOC: Symbol = Symbol("doc");
pub const CFG: Symbol = Symbol("cfg");

// Arguments.
pub const READ_ONLY: Symbol = Symbol("read_only");
pub const NO_LOCK: Symbol = Symbol("no_lock");
pub const INLINE: Symbol = Symbol("inline");
pub const DEFAULT: Symbol = Symbol("default");
pub const TITLE: Symbol = Symbol("title");
pub const PATH: Symbol = Symbol("path");
pub const CONTENT_TYPE: Symbol = Symbol("content_type");
pub const OBSERVE_EVERY: Symbol = Symbol("observe_every");
pub const MIN_CHANGE: Symbol = Symbol("min_change");
pub const UNIT: Symbol = Symbol("unit");

impl Symbol {
    /// Whether `attr` is `#[self]` or `#[self(…)]`.
    pub fn is(self, attr: &Attribute) -> bool {
        attr.path() == self
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl fmt::Display for Symbol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}
