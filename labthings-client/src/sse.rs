//! A parser for `text/event-stream` (the WHATWG HTML "server-sent events" format): lines ended
//! by CRLF, LF or CR, `data:` lines joined with newlines, `event:`, `id:` (kept across
//! messages, for `Last-Event-ID`), `retry:`, and `:` comments. Feed it bytes as they arrive.

use std::collections::VecDeque;
use std::time::Duration;

/// One message of an event stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseMessage {
    /// The `event:` name; `None` for an unnamed message (`message` in a browser).
    pub event: Option<String>,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
    /// The last event id seen when the message was dispatched.
    pub id: Option<String>,
}

/// The incremental parser.
#[derive(Debug, Default)]
pub struct SseParser {
    line: Vec<u8>,
    after_cr: bool,
    started: bool,
    data: String,
    has_data: bool,
    event: Option<String>,
    /// The `id:` of the message being received.
    id_buffer: Option<String>,
    /// The id committed by the last complete message (blank line).
    last_id: Option<String>,
    retry: Option<Duration>,
}

impl SseParser {
    /// A parser at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// The last event id of a complete message (to send as `Last-Event-ID` when
    /// reconnecting); an `id:` of a message cut off by a dropped connection doesn't count.
    pub fn last_id(&self) -> Option<&str> {
        self.last_id.as_deref().filter(|id| !id.is_empty())
    }

    /// The reconnection delay the stream asked for with `retry:`.
    pub fn retry(&self) -> Option<Duration> {
        self.retry
    }

    /// Forget a partly received message (the connection was lost), keeping the last id.
    pub fn reset(&mut self) {
        self.line.clear();
        self.after_cr = false;
        self.started = false;
        self.data.clear();
        self.has_data = false;
        self.event = None;
        self.id_buffer = self.last_id.clone();
    }

    /// Parse `chunk`, appending every message it completes to `out`.
    pub fn feed(&mut self, chunk: &[u8], out: &mut VecDeque<SseMessage>) {
        for &byte in chunk {
            match byte {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    self.after_cr = byte == b'\r';
                    let line = std::mem::take(&mut self.line);
                    self.line_complete(&line, out);
                }
                _ => {
                    self.after_cr = false;
                    self.line.push(byte);
                }
            }
        }
    }

    fn line_complete(&mut self, line: &[u8], out: &mut VecDeque<SseMessage>) {
        let mut line = String::from_utf8_lossy(line);
        if !self.started {
            self.started = true;
            if let Some(rest) = line.strip_prefix('\u{feff}') {
                line = rest.to_owned().into();
            }
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line.starts_with(':') {
            return; // a comment (keep-alive)
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line.as_ref(), ""),
        };
        match field {
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "event" => self.event = Some(value.to_owned()),
            "id" if !value.contains('\0') => self.id_buffer = Some(value.to_owned()),
            "retry" if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) => {
                if let Ok(ms) = value.parse() {
                    self.retry = Some(Duration::from_millis(ms));
                }
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut VecDeque<SseMessage>) {
        self.last_id = self.id_buffer.clone();
        let event = self.event.take().filter(|e| !e.is_empty());
        if !self.has_data {
            self.data.clear();
            return;
        }
        self.has_data = false;
        out.push_back(SseMessage {
            event,
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_in_pieces(stream: &[u8], piece: usize) -> (Vec<SseMessage>, SseParser) {
        let mut parser = SseParser::new();
        let mut out = VecDeque::new();
        for chunk in stream.chunks(piece) {
            parser.feed(chunk, &mut out);
        }
        (out.into_iter().collect(), parser)
    }

    #[test]
    fn messages_parse_whatever_the_chunking() {
        let stream = b"\xef\xbb\xbfretry: 3000\n\n: keep-alive\n\nid: 7\ndata: 42\n\nid: 8\r\nevent: count\r\ndata: {\"a\":\r\ndata:1}\r\n\r\ndata\n\nid: 9\revent:x\rdata:  two spaces\r\r";
        for piece in [1, 2, 3, 7, stream.len()] {
            let (messages, parser) = parse_in_pieces(stream, piece);
            assert_eq!(
                messages,
                vec![
                    SseMessage {
                        event: None,
                        data: "42".into(),
                        id: Some("7".into())
                    },
                    SseMessage {
                        event: Some("count".into()),
                        data: "{\"a\":\n1}".into(),
                        id: Some("8".into())
                    },
                    SseMessage {
                        event: None,
                        data: String::new(),
                        id: Some("8".into())
                    },
                    SseMessage {
                        event: Some("x".into()),
                        data: " two spaces".into(),
                        id: Some("9".into())
                    },
                ],
                "in pieces of {piece}"
            );
            assert_eq!(parser.retry(), Some(Duration::from_millis(3000)));
            assert_eq!(parser.last_id(), Some("9"));
        }
    }

    #[test]
    fn an_unfinished_message_is_not_dispatched_and_reset_forgets_it() {
        let (messages, mut parser) = parse_in_pieces(b"id: 3\ndata: 1\n\nid: 4\ndata: 2\n", 4);
        assert_eq!(parser.last_id(), Some("3"));
        assert_eq!(messages.len(), 1);
        parser.reset();
        let mut out = VecDeque::new();
        parser.feed(b"data: 5\n\n", &mut out);
        assert_eq!(out.pop_front().map(|m| m.data), Some("5".to_owned()));
        assert_eq!(parser.last_id(), Some("3"));
    }
}
