//! MJPEG streams: a live sequence of JPEG frames (a camera's preview) that clients watch.
//!
//! An `#[stream]` field of type [`MjpegStream`] is served at `T<name>` as
//! `multipart/x-mixed-replace` and listed in the Thing Description's `links`. The stream keeps
//! only the newest frame, in a `watch` cell: [`MjpegStream::add_frame`] replaces it and never
//! waits for a client, and each client sends the newest frame it has not sent yet, so a slow
//! client skips frames and nothing queues per client. The producer can ask whether anyone is
//! watching ([`MjpegStream::watchers`], [`MjpegStream::wait_for_watcher`]), so a camera need
//! only encode while it is watched.

use std::fmt;
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use bytes::{Bytes, BytesMut};
use tokio::sync::watch;

/// The bytes a JPEG starts with (SOI) and ends with (EOI).
const SOI: [u8; 2] = [0xFF, 0xD8];
const EOI: [u8; 2] = [0xFF, 0xD9];

/// Why a frame was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The bytes don't start with the JPEG SOI marker `FF D8` and end with EOI `FF D9`.
    #[error("not a JPEG image: a frame must start with FF D8 and end with FF D9")]
    NotJpeg,
    /// The stream was closed by [`MjpegStream::close`].
    #[error("the stream is closed")]
    Closed,
}

/// One frame, kept as the part of a `multipart/x-mixed-replace; boundary=frame` body that
/// carries it: built once when the frame is added, then shared (not copied) by every client.
#[derive(Clone)]
struct Frame {
    part: Bytes,
    /// Where the JPEG lies within `part`.
    jpeg: std::ops::Range<usize>,
}

impl Frame {
    fn new(jpeg: &[u8]) -> Self {
        let header = format!(
            "--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {}\r\n\r\n",
            jpeg.len()
        );
        let mut part = BytesMut::with_capacity(header.len() + jpeg.len() + 2);
        part.extend_from_slice(header.as_bytes());
        part.extend_from_slice(jpeg);
        part.extend_from_slice(b"\r\n");
        Self {
            part: part.freeze(),
            jpeg: header.len()..header.len() + jpeg.len(),
        }
    }
}

struct Shared {
    /// The newest frame; `None` before the first.
    frames: watch::Sender<Option<Frame>>,
    watching: Mutex<Watching>,
    /// Notified when the first watcher arrives or the stream closes.
    changed: Condvar,
}

#[derive(Default)]
struct Watching {
    watchers: usize,
    closed: bool,
}

impl Shared {
    fn watching(&self) -> MutexGuard<'_, Watching> {
        self.watching.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// A live stream of JPEG frames, served as MJPEG. Cloning gives another handle to the same
/// stream (for a producer thread, say).
///
/// ```
/// use labthings_core::MjpegStream;
/// let preview = MjpegStream::new();
/// assert!(preview.add_frame(&b"not a jpeg"[..]).is_err());
/// preview.add_frame(&[0xFF, 0xD8, 0xFF, 0xD9][..]).unwrap();
/// assert_eq!(preview.grab_frame().unwrap(), &[0xFF, 0xD8, 0xFF, 0xD9][..]);
/// assert_eq!(preview.watchers(), 0); // nobody is watching: a camera may stay idle
/// ```
#[derive(Clone)]
pub struct MjpegStream {
    shared: Arc<Shared>,
}

impl MjpegStream {
    /// A stream with no frame yet.
    pub fn new() -> Self {
        Self {
            shared: Arc::new(Shared {
                frames: watch::Sender::new(None),
                watching: Mutex::new(Watching::default()),
                changed: Condvar::new(),
            }),
        }
    }

    /// Make `jpeg` the newest frame, from any thread. Never blocks on clients: each sends it
    /// when it is ready for its next frame, or skips it for a newer one.
    ///
    /// # Errors
    /// [`FrameError::NotJpeg`] unless the bytes start with `FF D8` and end with `FF D9`;
    /// [`FrameError::Closed`] once the stream is closed.
    pub fn add_frame(&self, jpeg: impl AsRef<[u8]>) -> Result<(), FrameError> {
        let jpeg = jpeg.as_ref();
        if jpeg.len() < 4 || !jpeg.starts_with(&SOI) || !jpeg.ends_with(&EOI) {
            return Err(FrameError::NotJpeg);
        }
        if self.shared.watching().closed {
            return Err(FrameError::Closed);
        }
        self.shared.frames.send_replace(Some(Frame::new(jpeg)));
        Ok(())
    }

    /// The newest frame, if there is one: a JPEG, shared with the stream (not copied).
    pub fn grab_frame(&self) -> Option<Bytes> {
        let frame = self.shared.frames.borrow();
        frame.as_ref().map(|f| f.part.slice(f.jpeg.clone()))
    }

    /// How many clients are watching the stream now.
    pub fn watchers(&self) -> usize {
        self.shared.watching().watchers
    }

    /// Block until at least one client watches the stream (`true`, at once if one does) or
    /// the stream is closed (`false`). For a producer thread that should only make frames
    /// while they are watched; it sleeps on a condition variable meanwhile.
    pub fn wait_for_watcher(&self) -> bool {
        let guard = self.shared.watching();
        let guard = self
            .shared
            .changed
            .wait_while(guard, |w| w.watchers == 0 && !w.closed)
            .unwrap_or_else(|p| p.into_inner());
        !guard.closed
    }

    /// Close the stream: clients' streams end after the frame they are sending, later frames
    /// are refused and [`wait_for_watcher`](Self::wait_for_watcher) returns `false`.
    pub fn close(&self) {
        self.shared.watching().closed = true;
        self.shared.changed.notify_all();
        // Wake every client so it sees the stream closed.
        self.shared.frames.send_modify(|_| ());
    }

    /// Whether [`close`](Self::close) was called.
    pub fn is_closed(&self) -> bool {
        self.shared.watching().closed
    }

    /// Start watching, as a client does (the server makes one per MJPEG response). The
    /// watcher counts in [`watchers`](Self::watchers) until dropped.
    pub fn watch(&self) -> Watcher {
        let mut watching = self.shared.watching();
        watching.watchers += 1;
        if watching.watchers == 1 {
            self.shared.changed.notify_all();
        }
        drop(watching);
        let mut frames = self.shared.frames.subscribe();
        // A frame already there is the first one this client sends.
        if frames.borrow().is_some() {
            frames.mark_changed();
        }
        Watcher {
            stream: self.clone(),
            frames,
        }
    }
}

impl Default for MjpegStream {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for MjpegStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MjpegStream")
            .field("watchers", &self.watchers())
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// One client watching an [`MjpegStream`]; counted in [`MjpegStream::watchers`] until dropped.
pub struct Watcher {
    stream: MjpegStream,
    frames: watch::Receiver<Option<Frame>>,
}

impl Watcher {
    /// The next frame this client has not seen, as a JPEG; waits for one. `None` once the
    /// stream is closed.
    pub async fn next_frame(&mut self) -> Option<Bytes> {
        let frame = self.next().await?;
        Some(frame.part.slice(frame.jpeg))
    }

    /// The next frame this client has not sent, as its whole part of a
    /// `multipart/x-mixed-replace; boundary=frame` body (`--frame`, headers, JPEG, CRLF);
    /// waits for one. `None` once the stream is closed.
    pub async fn next_part(&mut self) -> Option<Bytes> {
        Some(self.next().await?.part)
    }

    async fn next(&mut self) -> Option<Frame> {
        loop {
            self.frames.changed().await.ok()?;
            if self.stream.is_closed() {
                return None;
            }
            if let Some(frame) = self.frames.borrow_and_update().as_ref() {
                return Some(frame.clone());
            }
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let mut watching = self.stream.shared.watching();
        watching.watchers = watching.watchers.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: [u8; 5] = [0xFF, 0xD8, 0x01, 0xFF, 0xD9];

    #[test]
    fn refuses_what_is_not_a_jpeg() {
        let stream = MjpegStream::new();
        assert_eq!(stream.add_frame(b"GIF89a"), Err(FrameError::NotJpeg));
        assert_eq!(
            stream.add_frame([0xFF, 0xD8, 0x00]),
            Err(FrameError::NotJpeg)
        );
        assert_eq!(
            stream.add_frame([0xFF, 0xD8, 0xFF, 0xD8]),
            Err(FrameError::NotJpeg)
        );
        assert!(stream.grab_frame().is_none());
    }

    #[test]
    fn a_part_is_framed_once_and_grab_frame_is_its_jpeg() {
        let stream = MjpegStream::new();
        stream.add_frame(JPEG).unwrap();
        assert_eq!(stream.grab_frame().unwrap(), &JPEG[..]);
        let frame = stream.shared.frames.borrow().clone().unwrap();
        assert_eq!(
            frame.part,
            &b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: 5\r\n\r\n\xFF\xD8\x01\xFF\xD9\r\n"[..]
        );
    }

    #[tokio::test]
    async fn a_watcher_gets_the_newest_frame_and_skips_older_ones() {
        let stream = MjpegStream::new();
        stream.add_frame([0xFF, 0xD8, 1, 0xFF, 0xD9]).unwrap();
        let mut watcher = stream.watch();
        assert_eq!(stream.watchers(), 1);
        let first = watcher.next_part().await.unwrap();
        assert!(first.ends_with(&[1, 0xFF, 0xD9, b'\r', b'\n']));
        for i in 2..10 {
            stream.add_frame([0xFF, 0xD8, i, 0xFF, 0xD9]).unwrap();
        }
        let newest = watcher.next_part().await.unwrap();
        assert!(newest.ends_with(&[9, 0xFF, 0xD9, b'\r', b'\n']));
        drop(watcher);
        assert_eq!(stream.watchers(), 0);
    }

    #[test]
    fn wait_for_watcher_wakes_on_the_first_watcher_and_on_close() {
        let stream = MjpegStream::new();
        let producer = stream.clone();
        let waiting = std::thread::spawn(move || producer.wait_for_watcher());
        let watcher = stream.watch();
        assert!(waiting.join().unwrap());
        drop(watcher);
        let producer = stream.clone();
        let waiting = std::thread::spawn(move || producer.wait_for_watcher());
        stream.close();
        assert!(!waiting.join().unwrap());
        assert_eq!(stream.add_frame(JPEG), Err(FrameError::Closed));
    }

    #[tokio::test]
    async fn close_ends_a_waiting_watcher() {
        let stream = MjpegStream::new();
        let mut watcher = stream.watch();
        let closer = stream.clone();
        tokio::spawn(async move { closer.close() });
        assert!(watcher.next_part().await.is_none());
    }
}
