//! An invocation as the HTTP API shows it: FastAPI's invocation model, in the reference's field
//! order, with absolute links (`href`, `links`, and the blobs its output links to). The
//! runtime keeps the record; the URLs are made here.

use std::borrow::Cow;

use labthings_core::{Blob, InvocationId, InvocationLog, rfc3339};
use labthings_protocol::paths::{ApiPaths, Origin, seg};
use serde::Serialize;
use serde::ser::SerializeStruct;
use serde_json::Value;

use crate::runtime::invocation::{Invocation, RunState};

/// Where an invocation's links point: the origin the client used and the server's paths.
#[derive(Clone, Copy)]
pub struct Links<'a> {
    pub origin: &'a Origin,
    pub paths: &'a ApiPaths,
}

impl<'a> Links<'a> {
    pub fn new(origin: &'a Origin, paths: &'a ApiPaths) -> Self {
        Self { origin, paths }
    }

    /// The invocation's absolute URL, written into a buffer sized for it, once per view
    /// (`ApiPaths::invocation` and a `format!` around it cost a quick POST ~4,000 instructions
    /// more: `bench/profiles/`).
    pub fn invocation(&self, id: InvocationId) -> String {
        use std::fmt::Write as _;
        let mut href = String::with_capacity(128);
        let _ = write!(href, "{}{}/{id}", self.origin, self.paths.invocations());
        href
    }

    fn blob(&self, blob: &Blob) -> String {
        format!("{}{}", self.origin, self.paths.blob(blob.id()))
    }
}

/// The full view of `invocation`.
pub fn view<'a>(invocation: &'a Invocation, links: Links<'a>) -> InvocationView<'a> {
    let href = links.invocation(invocation.id);
    InvocationView {
        invocation,
        links,
        href,
        summary: false,
    }
}

/// The summary view the list routes use.
pub fn summary<'a>(invocation: &'a Invocation, links: Links<'a>) -> InvocationView<'a> {
    InvocationView {
        summary: true,
        ..view(invocation, links)
    }
}

/// The output as clients see it: blob links made absolute.
pub fn output<'s>(state: &'s RunState, links: Links<'_>) -> Cow<'s, Option<Value>> {
    if state.blobs.is_empty() {
        return Cow::Borrowed(&state.output);
    }
    let mut output = state.output.clone();
    if let Some(output) = &mut output {
        absolute_blob_links(output, &state.blobs, links);
    }
    Cow::Owned(output)
}

/// Replace each relative blob `href` (`blob/<id>`) in `value` by the blob's absolute URL.
fn absolute_blob_links(value: &mut Value, blobs: &[Blob], links: Links<'_>) {
    match value {
        Value::Object(object) => {
            if let Some(Value::String(href)) = object.get_mut("href")
                && let Some(blob) = blobs.iter().find(|blob| *href == blob.relative_href())
            {
                *href = links.blob(blob);
            }
            for (key, child) in object.iter_mut() {
                if key != "href" {
                    absolute_blob_links(child, blobs, links);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                absolute_blob_links(item, blobs, links);
            }
        }
        _ => {}
    }
}

/// Serialises an invocation in the reference's field order, with absolute links.
pub struct InvocationView<'a> {
    invocation: &'a Invocation,
    links: Links<'a>,
    /// The invocation's absolute URL, made once: the view shows it twice and derives the
    /// output's link from it, and `POST` answers it as `Location` too (a POST's answer spent
    /// a sixth of its instructions formatting these URLs: `bench/profiles/`).
    href: String,
    summary: bool,
}

impl InvocationView<'_> {
    /// The invocation's absolute URL.
    pub fn href(&self) -> &str {
        &self.href
    }
}

#[derive(Serialize)]
struct Link<'a> {
    href: &'a str,
    #[serde(rename = "type")]
    kind: Option<&'a str>,
    rel: &'a str,
    anchor: Option<&'a str>,
}

struct LogView<'a>(&'a InvocationLog);

impl Serialize for LogView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_into(serializer)
    }
}

impl Serialize for InvocationView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let invocation = self.invocation;
        let href = &self.href;
        let output_href = [href, "/", seg::OUTPUT].concat();
        let state = invocation.state();
        let mut s = serializer.serialize_struct("Invocation", if self.summary { 8 } else { 13 })?;
        s.serialize_field("status", &state.status)?;
        s.serialize_field("id", &invocation.id)?;
        s.serialize_field("action", &*invocation.action_path)?;
        s.serialize_field("href", href)?;
        s.serialize_field("timeStarted", &state.time_started.map(rfc3339))?;
        s.serialize_field("timeRequested", &rfc3339(invocation.time_requested))?;
        s.serialize_field("timeCompleted", &state.time_completed.map(rfc3339))?;
        s.serialize_field(
            "links",
            &[
                Link {
                    href,
                    kind: None,
                    rel: "self",
                    anchor: None,
                },
                Link {
                    href: &output_href,
                    kind: None,
                    rel: "output",
                    anchor: None,
                },
            ],
        )?;
        if !self.summary {
            s.serialize_field("input", &invocation.input)?;
            s.serialize_field("output", &output(&state, self.links))?;
            s.serialize_field("log", &LogView(&invocation.log))?;
            s.serialize_field("error", &state.error)?;
            // Ours, after the reference's fields: `null` until the action reports any.
            s.serialize_field("progress", &invocation.progress.get())?;
        }
        s.end()
    }
}
