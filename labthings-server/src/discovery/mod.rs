//! Discovery: how a client finds the Things without knowing their names. `GET /.well-known/wot`
//! answers a directory TD linking every Thing (`directory.rs`); `--mdns` advertises each
//! Thing on the local network as DNS-SD `_wot._tcp` (`mdns.rs`).

pub mod directory;
pub mod mdns;
