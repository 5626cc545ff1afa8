//! VISA resource strings, so that the addresses users already have (from PyVISA, NI MAX, a
//! vendor's manual) work unchanged: `TCPIP[board]::host::port::SOCKET` for a raw socket and
//! `ASRL<port>::INSTR` for a serial port, where `<port>` is a device path
//! (`ASRL/dev/ttyUSB0::INSTR`, the pyvisa-py form) or a number (`ASRL1::INSTR`: `COM1` on
//! Windows, `/dev/ttyS0` elsewhere, as NI-VISA numbers them).

use std::fmt;
use std::str::FromStr;

use crate::ScpiError;

/// Where an instrument is, parsed from a VISA resource string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resource {
    /// A raw TCP socket (`TCPIP0::192.168.1.5::5025::SOCKET`).
    Socket {
        /// The host name or address.
        host: String,
        /// The port.
        port: u16,
    },
    /// A serial port by its device path (`ASRL/dev/ttyUSB0::INSTR`).
    Serial {
        /// The device path.
        path: String,
    },
}

impl FromStr for Resource {
    type Err = ScpiError;

    fn from_str(text: &str) -> Result<Self, ScpiError> {
        let invalid = |why: &str| ScpiError::Resource {
            resource: text.to_owned(),
            reason: why.to_owned(),
        };
        let parts = split_fields(text.trim());
        let Some(interface) = parts.first().map(|p| p.to_ascii_uppercase()) else {
            return Err(invalid("empty"));
        };
        let class = parts.last().map(|p| p.to_ascii_uppercase());
        if let Some(board) = interface.strip_prefix("TCPIP") {
            if !board.chars().all(|c| c.is_ascii_digit()) {
                return Err(invalid("the board after `TCPIP` must be a number"));
            }
            return match (&parts[..], class.as_deref()) {
                ([_, host, port, _], Some("SOCKET")) if !host.is_empty() => {
                    let port = port
                        .parse::<u16>()
                        .ok()
                        .filter(|p| *p != 0)
                        .ok_or_else(|| invalid("the port must be a number from 1 to 65535"))?;
                    // `[::1]` is how an IPv6 host is written; the socket wants it bare.
                    let host = host.trim_start_matches('[').trim_end_matches(']');
                    Ok(Resource::Socket {
                        host: host.to_owned(),
                        port,
                    })
                }
                (_, Some("INSTR")) => Err(invalid(
                    "VXI-11 and HiSLIP (`::INSTR`) are not supported; use the instrument's raw \
                     socket, `TCPIP::host::port::SOCKET` (port 5025 on most instruments)",
                )),
                _ => Err(invalid("expected `TCPIP[board]::host::port::SOCKET`")),
            };
        }
        if parts[0].len() >= 4 && parts[0][..4].eq_ignore_ascii_case("ASRL") {
            let port = &parts[0][4..];
            return match (&parts[..], class.as_deref()) {
                ([_, _], Some("INSTR")) if !port.is_empty() => Ok(Resource::Serial {
                    path: serial_path(port),
                }),
                _ => Err(invalid(
                    "expected `ASRL<port>::INSTR`, e.g. `ASRL/dev/ttyUSB0::INSTR`",
                )),
            };
        }
        Err(invalid(
            "unsupported interface: expected `TCPIP[board]::host::port::SOCKET` or \
             `ASRL<port>::INSTR`",
        ))
    }
}

/// Split at `::`, except inside `[…]` (an IPv6 host).
fn split_fields(text: &str) -> Vec<&str> {
    let mut fields = Vec::new();
    let (mut start, mut depth, mut i) = (0, 0usize, 0);
    let bytes = text.as_bytes();
    while i < bytes.len() {
        match bytes[i] {
            b'[' => depth += 1,
            b']' => depth = depth.saturating_sub(1),
            b':' if depth == 0 && bytes.get(i + 1) == Some(&b':') => {
                fields.push(&text[start..i]);
                start = i + 2;
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    fields.push(&text[start..]);
    fields
}

/// The device path of `ASRL<port>`: a number is a board index, anything else a path.
fn serial_path(port: &str) -> String {
    match port.parse::<u32>() {
        Ok(n) if cfg!(windows) => format!("COM{n}"),
        Ok(n) => format!("/dev/ttyS{}", n.saturating_sub(1)),
        Err(_) => port.to_owned(),
    }
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::Socket { host, port } if host.contains(':') => {
                write!(f, "TCPIP::[{host}]::{port}::SOCKET")
            }
            Resource::Socket { host, port } => write!(f, "TCPIP::{host}::{port}::SOCKET"),
            Resource::Serial { path } => write!(f, "ASRL{path}::INSTR"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Resource, String> {
        text.parse::<Resource>().map_err(|e| e.to_string())
    }

    #[test]
    fn parses_sockets_and_serial_ports() {
        let socket = |host: &str, port| Resource::Socket {
            host: host.into(),
            port,
        };
        assert_eq!(
            parse("TCPIP0::192.168.1.5::5025::SOCKET"),
            Ok(socket("192.168.1.5", 5025))
        );
        assert_eq!(
            parse("tcpip::localhost::5555::socket"),
            Ok(socket("localhost", 5555))
        );
        assert_eq!(parse("TCPIP::[::1]::5025::SOCKET"), Ok(socket("::1", 5025)));
        let serial = |path: &str| Resource::Serial { path: path.into() };
        assert_eq!(parse("ASRL/dev/ttyUSB0::INSTR"), Ok(serial("/dev/ttyUSB0")));
        if !cfg!(windows) {
            assert_eq!(parse("ASRL1::INSTR"), Ok(serial("/dev/ttyS0")));
        }
        assert_eq!(
            parse("TCPIP::[::1]::5025::SOCKET").unwrap().to_string(),
            "TCPIP::[::1]::5025::SOCKET"
        );
        assert_eq!(
            parse("asrl/dev/ttyACM0::instr").unwrap().to_string(),
            "ASRL/dev/ttyACM0::INSTR"
        );
    }

    #[test]
    fn refuses_what_it_cannot_open_and_says_why() {
        for (text, why) in [
            ("TCPIP::10.0.0.2::INSTR", "VXI-11"),
            ("TCPIP::10.0.0.2::0::SOCKET", "port"),
            ("TCPIP::10.0.0.2::99999::SOCKET", "port"),
            ("TCPIPx::h::1::SOCKET", "board"),
            ("GPIB0::12::INSTR", "unsupported interface"),
            (
                "USB0::0x1AB1::0x0E11::DP8A1234::INSTR",
                "unsupported interface",
            ),
            ("ASRL::INSTR", "ASRL<port>"),
            ("", "unsupported"),
        ] {
            let error = parse(text).unwrap_err();
            assert!(error.contains(why), "{text:?}: {error}");
            assert!(
                error.contains(&format!("{text:?}")),
                "names the resource: {error}"
            );
        }
    }
}
