//! MJPEG streams: `T<stream>` as `multipart/x-mixed-replace; boundary=frame`, and
//! `T<stream>/viewer`, a page showing it.
//!
//! Each client is a [`Watcher`] of the Thing's `MjpegStream`, pulled by the connection: the
//! next part is chosen only once the connection has finished writing the previous one (the
//! chunk handed to hyper tells us when hyper drops it), so a slow client holds at most one
//! frame and sends the newest when it can; nothing queues per client and the camera never
//! waits. `?fps=N` spaces one client's frames at least `1/N` s apart. The stream ends with a
//! closing delimiter when the server stops or the Thing closes the stream.

use std::time::Duration;

use bytes::Bytes;
use hyper::Response;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderValue};
use hyper::http::request::Parts;
use labthings_core::{LocSegment, StreamMetadata, ValidationIssue, Watcher};
use tokio::sync::oneshot;
use tokio::time::{Instant, timeout};

use crate::http::body::Body;
use crate::http::error::ApiError;
use crate::http::query;
use crate::push::lifeline::{End, Lifeline, SEND_TIMEOUT, STOP_FLUSH};
use crate::state::{ServedThing, ServerState};

/// The media type of the stream; parts are delimited by `--frame`.
const MEDIA_TYPE: &str = "multipart/x-mixed-replace; boundary=frame";
/// The close delimiter, sent when the stream ends cleanly.
const CLOSE: &[u8] = b"--frame--\r\n";
/// The highest `?fps=` that means anything: a cap above it is no cap.
const MAX_FPS: f64 = 1000.0;

/// `GET T<stream>`.
pub fn mjpeg(
    state: &ServerState,
    served: &ServedThing,
    metadata: &StreamMetadata,
    request: &Parts,
) -> Result<Response<Body>, ApiError> {
    let query = request.uri.query();
    let stream = served
        .thing
        .mjpeg_stream(metadata.name)
        .ok_or(ApiError::NotFound)?;
    let spacing = frame_spacing(query)?;
    let client = Client {
        pacing: Pacing {
            watcher: stream.watch(),
            spacing,
            last_sent: None,
            in_flight: None,
        },
        lifeline: Lifeline::new(state.stopped.clone(), &request.extensions),
        done: false,
    };
    let mut response = Response::new(Body::pulled(futures_util::stream::unfold(
        client,
        Client::next_chunk,
    )));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(MEDIA_TYPE));
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

/// `GET T<stream>/viewer`: the stream in an `<img>`, nothing loaded from elsewhere.
pub fn viewer(served: &ServedThing, metadata: &StreamMetadata) -> Response<Body> {
    let src = escape(&format!("{}{}", served.path, metadata.name));
    let title = escape(&format!("{} – {}", served.name, metadata.title));
    let page = format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{margin:0;background:#111;display:flex;align-items:center;\
         justify-content:center;height:100vh}}img{{max-width:100%;max-height:100%}}</style>\
         </head><body><img src=\"{src}\" alt=\"{title}\"></body></html>\n"
    );
    let mut response = Response::new(Body::full(page));
    response.headers_mut().insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// The least time between two frames for `?fps=N` (`None`: as fast as frames come).
fn frame_spacing(query: Option<&str>) -> Result<Option<Duration>, ApiError> {
    let Some(value) = query::param(query, "fps")? else {
        return Ok(None);
    };
    match value.parse::<f64>() {
        // A rate so low that its spacing doesn't fit a `Duration` (below ~5e-20) means one
        // frame and then none: `Duration::MAX`, which `Pacing` never reaches.
        Ok(fps) if fps > 0.0 && fps.is_finite() => Ok((fps < MAX_FPS)
            .then(|| Duration::try_from_secs_f64(1.0 / fps).unwrap_or(Duration::MAX))),
        parsed => Err(ApiError::Unprocessable(vec![ValidationIssue {
            kind: if parsed.is_ok() {
                "greater_than"
            } else {
                "float_parsing"
            }
            .into(),
            loc: vec![
                LocSegment::Field("query".into()),
                LocSegment::Field("fps".into()),
            ],
            msg: if parsed.is_ok() {
                "Input should be greater than 0".into()
            } else {
                "Input should be a valid number, unable to parse string as a number".into()
            },
            input: serde_json::Value::String(value.to_owned()),
            ctx: parsed.is_ok().then(|| serde_json::json!({ "gt": 0 })),
        }])),
    }
}

/// One client's stream: its pacing, and what ends it (the server stopping, its token revoked).
struct Client {
    pacing: Pacing,
    lifeline: Lifeline,
    done: bool,
}

impl Client {
    /// The next chunk to send: a whole part, or the close delimiter once the stream ends.
    async fn next_chunk(mut self) -> Option<(Bytes, Self)> {
        if self.done {
            return None;
        }
        let Self {
            pacing, lifeline, ..
        } = &mut self;
        let part = tokio::select! {
            biased;
            end = lifeline.ended() => match end {
                End::Revoked => {
                    lifeline.hang_up();
                    return None;
                }
                // Close cleanly, unless the client doesn't take the part it has.
                End::Stopping => {
                    if let Some(written) = &mut pacing.in_flight
                        && timeout(STOP_FLUSH, written).await.is_err()
                    {
                        lifeline.hang_up();
                        return None;
                    }
                    Ok(None)
                }
            },
            part = pacing.next() => part,
        };
        match part {
            Ok(Some(part)) => Some((part, self)),
            Ok(None) => {
                self.done = true;
                Some((Bytes::from_static(CLOSE), self))
            }
            // The client stopped reading: drop its connection, and with it the watcher (the
            // camera needn't encode for it).
            Err(Stalled) => {
                self.lifeline.hang_up();
                None
            }
        }
    }
}

/// Which frame one client sends next, and when.
struct Pacing {
    watcher: Watcher,
    /// `?fps=`: the least time between frames.
    spacing: Option<Duration>,
    last_sent: Option<Instant>,
    /// Resolves once the connection has dropped the part last handed to it (written out).
    in_flight: Option<oneshot::Receiver<()>>,
}

impl Pacing {
    /// The next part, once the previous one is written and `?fps=` allows; `None` when the
    /// Thing closes the stream; `Stalled` when the previous part wasn't written within
    /// [`SEND_TIMEOUT`].
    async fn next(&mut self) -> Result<Option<Bytes>, Stalled> {
        // Kept until it resolves, so a cancelled call loses nothing.
        if let Some(written) = &mut self.in_flight {
            // An error is the signal: the sender is dropped with the chunk.
            if timeout(SEND_TIMEOUT, written).await.is_err() {
                return Err(Stalled);
            }
            self.in_flight = None;
        }
        if let (Some(spacing), Some(last)) = (self.spacing, self.last_sent) {
            // `last + spacing` panics past the clock's range (`?fps=1e-19`): then no next frame.
            match last.checked_add(spacing) {
                Some(due) => tokio::time::sleep_until(due).await,
                None => std::future::pending().await,
            }
        }
        let Some(part) = self.watcher.next_part().await else {
            return Ok(None);
        };
        self.last_sent = Some(Instant::now());
        let (tell, written) = oneshot::channel();
        self.in_flight = Some(written);
        Ok(Some(Bytes::from_owner(InFlight { part, _tell: tell })))
    }
}

/// The client hasn't taken a part for [`SEND_TIMEOUT`]: it stopped reading.
#[derive(Debug)]
struct Stalled;

/// A part handed to the connection: shares the frame's bytes, and tells its [`Pacing`] when
/// the connection is done with it (drops it).
struct InFlight {
    part: Bytes,
    _tell: oneshot::Sender<()>,
}

impl AsRef<[u8]> for InFlight {
    fn as_ref(&self) -> &[u8] {
        &self.part
    }
}

/// Escape text for HTML (names come from the config file and doc comments).
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use labthings_core::MjpegStream;

    #[test]
    fn fps_query() {
        assert_eq!(frame_spacing(None).unwrap(), None);
        assert_eq!(frame_spacing(Some("a=1")).unwrap(), None);
        assert_eq!(
            frame_spacing(Some("a=1&fps=4")).unwrap(),
            Some(Duration::from_millis(250))
        );
        assert_eq!(frame_spacing(Some("fps=5000")).unwrap(), None);
        assert_eq!(
            frame_spacing(Some("fps=1e-300")).unwrap(),
            Some(Duration::MAX)
        );
        assert_eq!(
            frame_spacing(Some("fps=%32")).unwrap(),
            Some(Duration::from_millis(500))
        );
        assert!(matches!(
            frame_spacing(Some("fps=2%")),
            Err(ApiError::Problem(problem)) if problem.status == 400
        ));
        for bad in [
            "fps=0", "fps=-1", "fps=x", "fps=", "fps", "fps=inf", "fps=NaN",
        ] {
            assert!(
                matches!(frame_spacing(Some(bad)), Err(ApiError::Unprocessable(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn escapes_html() {
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
    }

    #[tokio::test]
    async fn a_part_is_not_replaced_until_the_last_one_is_written() {
        let stream = MjpegStream::new();
        let mut pacing = Pacing {
            watcher: stream.watch(),
            spacing: None,
            last_sent: None,
            in_flight: None,
        };
        stream.add_frame([0xFF, 0xD8, 1, 0xFF, 0xD9]).unwrap();
        let first = pacing.next().await.unwrap().unwrap();
        stream.add_frame([0xFF, 0xD8, 2, 0xFF, 0xD9]).unwrap();
        // The first part is still with the connection: no second one yet.
        let waiting = tokio::time::timeout(Duration::from_millis(50), pacing.next()).await;
        assert!(waiting.is_err());
        stream.add_frame([0xFF, 0xD8, 3, 0xFF, 0xD9]).unwrap();
        drop(first);
        let next = pacing.next().await.unwrap().unwrap();
        assert!(next.ends_with(&[3, 0xFF, 0xD9, b'\r', b'\n']));
    }
}
