//! Slots: a Thing's fields that hold other Things of the same server, filled before start.

use crate::app::error::ServerError;
use crate::app::options::ThingEntry;

/// Fill every slot: by the name the config gives, else by type.
pub(super) fn wire_slots(things: &[ThingEntry]) -> Result<(), ServerError> {
    for entry in things {
        for slot in &entry.thing.metadata().slots {
            let error = |problem: String| ServerError::Slot {
                thing: entry.name.clone(),
                slot: slot.name.to_owned(),
                problem,
            };
            let target = match entry.slots.get(slot.name) {
                Some(wanted) => match things.iter().find(|t| &t.name == wanted) {
                    Some(target) => target,
                    None => {
                        return Err(error(format!(
                            "it names `{wanted}`, which is not a Thing of this server"
                        )));
                    }
                },
                None => {
                    let candidates: Vec<&ThingEntry> = things
                        .iter()
                        .filter(|t| (*t.any).type_id() == slot.target_type)
                        .collect();
                    match candidates.as_slice() {
                        [one] => *one,
                        [] if slot.optional => continue,
                        [] => {
                            return Err(error(format!(
                                "it needs a `{}` and the server has none",
                                slot.target_type_name
                            )));
                        }
                        several => {
                            let names: Vec<&str> =
                                several.iter().map(|t| t.name.as_str()).collect();
                            return Err(error(format!(
                                "several Things could fill it ({}); name one in `thing_slots`",
                                names.join(", ")
                            )));
                        }
                    }
                }
            };
            entry
                .thing
                .wire_slot(slot.name, target.any.clone())
                .map_err(|wrong| error(format!("`{}` can't go in it: {wrong}", target.name)))?;
        }
    }
    Ok(())
}
