//! The simulated instrument: a bench power supply with a resistive load, and its SCPI dialect.
//!
//! Supported (long and short forms, any case, optional nodes in brackets; `;` separates
//! commands in one line, each taken from the root, and the answers of the queries among them
//! are joined with `;`):
//! `*IDN?`, `*RST`, `*CLS`, `*OPC`, `*OPC?`, `SYSTem:ERRor[:NEXT]?`,
//! `[SOURce:]VOLTage[:LEVel][:IMMediate][:AMPLitude] <v>` and `?`, the same for `CURRent`
//! (the current limit), `OUTPut[:STATe] ON|OFF|1|0` and `?` (answers `1`/`0`),
//! `MEASure:VOLTage[:DC]?`, `MEASure:CURRent[:DC]?` (answers like `+1.23450000E+00`).
//! Errors go to the queue: `-113,"Undefined header"`, `-222,"Data out of range"`,
//! `-224,"Illegal parameter value"`, `-104,"Data type error"`, `-109,"Missing parameter"`,
//! `-350,"Queue overflow"`.

use std::collections::VecDeque;

/// The `*IDN?` answer.
pub const IDENTITY: &str = "LabThings,SCPI-SIM-PSU,0001,1.0";
/// Setpoint ranges: 0–30 V, 0–5 A.
pub const MAX_VOLTAGE: f64 = 30.0;
pub const MAX_CURRENT: f64 = 5.0;
/// The load across the output.
pub const LOAD_OHMS: f64 = 10.0;
const QUEUE_LENGTH: usize = 16;

/// The supply's state.
#[derive(Debug, Clone, PartialEq)]
pub struct Psu {
    pub voltage: f64,
    pub current_limit: f64,
    pub output: bool,
    errors: VecDeque<(i32, &'static str)>,
}

impl Default for Psu {
    fn default() -> Self {
        Self {
            voltage: 0.0,
            current_limit: 1.0,
            output: false,
            errors: VecDeque::new(),
        }
    }
}

impl Psu {
    /// What the output delivers into the load: constant voltage until the current would
    /// exceed the limit, then constant current.
    pub fn measure(&self) -> (f64, f64) {
        if !self.output {
            return (0.0, 0.0);
        }
        let current = self.voltage / LOAD_OHMS;
        if current <= self.current_limit {
            (self.voltage, current)
        } else {
            (self.current_limit * LOAD_OHMS, self.current_limit)
        }
    }

    /// Execute one line; the answer to send, if it held queries.
    pub fn execute(&mut self, line: &str) -> Option<String> {
        let answers: Vec<String> = line
            .split(';')
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .filter_map(|command| self.command(command))
            .collect();
        (!answers.is_empty()).then(|| answers.join(";"))
    }

    fn push_error(&mut self, code: i32, text: &'static str) {
        if self.errors.len() + 1 < QUEUE_LENGTH {
            self.errors.push_back((code, text));
        } else if self.errors.len() + 1 == QUEUE_LENGTH {
            self.errors.push_back((-350, "Queue overflow"));
        }
    }

    fn command(&mut self, command: &str) -> Option<String> {
        let (header, argument) = match command.split_once(char::is_whitespace) {
            Some((header, argument)) => (header, Some(argument.trim())),
            None => (command, None),
        };
        let query = header.ends_with('?');
        let path = normalize(header.trim_end_matches('?'));
        match (path.as_str(), query) {
            ("*IDN", true) => Some(IDENTITY.into()),
            ("*RST", false) => {
                let errors = std::mem::take(&mut self.errors);
                *self = Psu {
                    errors,
                    ..Psu::default()
                };
                None
            }
            ("*CLS", false) => {
                self.errors.clear();
                None
            }
            ("*OPC", false) => None,
            ("*OPC", true) => Some("1".into()),
            ("SYST:ERR", true) => Some(match self.errors.pop_front() {
                Some((code, text)) => format!("{code},\"{text}\""),
                None => "0,\"No error\"".into(),
            }),
            ("VOLT", true) => Some(number(self.voltage)),
            ("CURR", true) => Some(number(self.current_limit)),
            ("OUTP", true) => Some(if self.output { "1" } else { "0" }.into()),
            ("MEAS:VOLT", true) => Some(number(self.measure().0)),
            ("MEAS:CURR", true) => Some(number(self.measure().1)),
            ("VOLT", false) => {
                if let Some(v) = self.level(argument, MAX_VOLTAGE) {
                    self.voltage = v;
                }
                None
            }
            ("CURR", false) => {
                if let Some(a) = self.level(argument, MAX_CURRENT) {
                    self.current_limit = a;
                }
                None
            }
            ("OUTP", false) => {
                match argument.map(str::to_ascii_uppercase).as_deref() {
                    Some("ON" | "1") => self.output = true,
                    Some("OFF" | "0") => self.output = false,
                    None => self.push_error(-109, "Missing parameter"),
                    Some(_) => self.push_error(-224, "Illegal parameter value"),
                }
                None
            }
            _ => {
                self.push_error(-113, "Undefined header");
                None
            }
        }
    }

    /// A level argument within 0..=max (`MIN`/`MAX` accepted), or an error queued.
    fn level(&mut self, argument: Option<&str>, max: f64) -> Option<f64> {
        let Some(argument) = argument else {
            self.push_error(-109, "Missing parameter");
            return None;
        };
        let value = match argument.to_ascii_uppercase().as_str() {
            "MIN" | "MINIMUM" => 0.0,
            "MAX" | "MAXIMUM" => max,
            text => match text.parse::<f64>() {
                Ok(v) if v.is_finite() => v,
                _ => {
                    self.push_error(-104, "Data type error");
                    return None;
                }
            },
        };
        if (0.0..=max).contains(&value) {
            Some(value)
        } else {
            self.push_error(-222, "Data out of range");
            None
        }
    }
}

/// `+1.23450000E+00`: the 488.2 NR3 form bench supplies answer with.
pub fn number(value: f64) -> String {
    let text = format!("{value:+.8E}");
    match text.split_once('E') {
        Some((mantissa, exponent)) => {
            let exponent: i32 = exponent.parse().unwrap_or(0);
            format!("{mantissa}E{exponent:+03}")
        }
        None => text,
    }
}

/// Upper-case, short forms, optional nodes dropped: `SOURce:VOLTage:LEVel` → `VOLT`.
fn normalize(header: &str) -> String {
    let nodes: Vec<&str> = header
        .trim_start_matches(':')
        .split(':')
        .map(|node| short_form(&node.to_ascii_uppercase()))
        .collect();
    let nodes: Vec<&str> = nodes
        .iter()
        .enumerate()
        .filter(|(i, node)| {
            let optional_head = *i == 0 && **node == "SOUR" && nodes.len() > 1;
            let optional_tail =
                *i > 0 && matches!(**node, "LEV" | "IMM" | "AMPL" | "DC" | "STAT" | "NEXT");
            !optional_head && !optional_tail
        })
        .map(|(_, node)| *node)
        .collect();
    nodes.join(":")
}

fn short_form(node: &str) -> &'static str {
    const FORMS: [(&str, &str); 13] = [
        ("SOURCE", "SOUR"),
        ("VOLTAGE", "VOLT"),
        ("CURRENT", "CURR"),
        ("OUTPUT", "OUTP"),
        ("MEASURE", "MEAS"),
        ("SYSTEM", "SYST"),
        ("ERROR", "ERR"),
        ("LEVEL", "LEV"),
        ("IMMEDIATE", "IMM"),
        ("AMPLITUDE", "AMPL"),
        ("STATE", "STAT"),
        ("NEXT", "NEXT"),
        ("DC", "DC"),
    ];
    for (long, short) in FORMS {
        if node == long || node == short {
            return short;
        }
    }
    match node {
        "*IDN" => "*IDN",
        "*RST" => "*RST",
        "*CLS" => "*CLS",
        "*OPC" => "*OPC",
        _ => "?",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_the_setpoint_until_the_current_limit() {
        let mut psu = Psu::default();
        assert_eq!(psu.execute("VOLT 5;CURR 2;OUTP ON"), None);
        assert_eq!(
            psu.execute("MEAS:VOLT?;:MEAS:CURR?").as_deref(),
            Some("+5.00000000E+00;+5.00000000E-01")
        );
        psu.execute("CURR 0.2");
        assert_eq!(psu.measure(), (2.0, 0.2), "constant current");
        psu.execute("OUTP OFF");
        assert_eq!(psu.measure(), (0.0, 0.0));
        assert_eq!(psu.execute("OUTP?").as_deref(), Some("0"));
    }

    #[test]
    fn takes_long_forms_optional_nodes_and_any_case() {
        let mut psu = Psu::default();
        psu.execute("source:voltage:level:immediate:amplitude 12.5");
        psu.execute(":OUTPut:STATe 1");
        assert_eq!(psu.execute("Volt?").as_deref(), Some("+1.25000000E+01"));
        assert_eq!(psu.execute("OUTP:STAT?").as_deref(), Some("1"));
        assert_eq!(
            psu.execute("SYSTem:ERRor:NEXT?").as_deref(),
            Some("0,\"No error\"")
        );
    }

    #[test]
    fn queues_errors_for_bad_commands_and_values() {
        let mut psu = Psu::default();
        psu.execute("VOLT 31");
        psu.execute("CURR -1");
        psu.execute("VOLT lots");
        psu.execute("FROB 1");
        psu.execute("OUTP MAYBE");
        assert_eq!(psu.voltage, 0.0, "refused values change nothing");
        let mut drained = Vec::new();
        loop {
            let entry = psu.execute("SYST:ERR?").unwrap();
            if entry.starts_with("0,") {
                break;
            }
            drained.push(entry);
        }
        assert_eq!(
            drained,
            [
                "-222,\"Data out of range\"",
                "-222,\"Data out of range\"",
                "-104,\"Data type error\"",
                "-113,\"Undefined header\"",
                "-224,\"Illegal parameter value\""
            ]
        );
        for _ in 0..40 {
            psu.execute("FROB");
        }
        assert_eq!(psu.errors.len(), QUEUE_LENGTH);
        assert_eq!(psu.errors.back(), Some(&(-350, "Queue overflow")));
        psu.execute("*CLS");
        assert!(psu.errors.is_empty());
    }

    #[test]
    fn formats_numbers_like_a_bench_supply() {
        assert_eq!(number(1.2345), "+1.23450000E+00");
        assert_eq!(number(0.0), "+0.00000000E+00");
        assert_eq!(number(0.05), "+5.00000000E-02");
        assert_eq!(number(-12.0), "-1.20000000E+01");
    }
}
