//! An extension hosted for a while: its instance, the TEA state the host keeps, and the
//! effects it asked for running. What `morph ext run`/`session` and a daemon's session drive.

use serde_json::{json, Value as Json};

use super::effects::{Delivery, Effects};
use super::tea::{Step, Tea};
use super::{Envelope, ExtensionSession};
use crate::RuntimeError;

pub struct Hosted {
    pub session: ExtensionSession,
    pub tea: Tea,
    pub effects: Effects,
}

impl Hosted {
    /// `session` with state `tea`; its effects under the session's grants.
    pub fn new(session: ExtensionSession, tea: Tea) -> Hosted {
        let effects = Effects::new(&session.sandbox().policy);
        Hosted { session, tea, effects }
    }

    /// `init` with `flags`: the step's record, its commands run and its subscriptions started.
    pub async fn init(&mut self, flags: Vec<u8>) -> Result<Json, RuntimeError> {
        let step = self.tea.init(&mut self.session, flags).await?;
        Ok(self.apply(step))
    }

    /// `update` with `msg`. A failed step leaves the last good model in place and a fresh
    /// instance ready for the next message; its error is returned.
    pub async fn send(&mut self, msg: Vec<u8>) -> Result<Json, RuntimeError> {
        match self.tea.update(&mut self.session, msg).await {
            Ok(step) => Ok(self.apply(step)),
            Err(e) => {
                self.session.recover().await?;
                Err(e)
            }
        }
    }

    /// A message an effect made, sent as `update`: the record says where it came from; a failed
    /// step is an error record (the session goes on), `Err` only when no fresh instance can be
    /// made.
    pub async fn deliver(&mut self, d: Delivery) -> Result<Json, RuntimeError> {
        match self.send(d.bytes()).await {
            Ok(mut record) => {
                record["source"] = json!(d.source);
                Ok(record)
            }
            Err(e) if is_step_failure(&e) => {
                Ok(json!({ "source": d.source, "seqnum": self.tea.seqnum, "message": d.msg, "error": e.to_string() }))
            }
            Err(e) => Err(e),
        }
    }

    /// Takes a session up again at its last good model (after an eviction or a restart): its
    /// subscriptions start again, no `init` runs.
    pub async fn resume(&mut self, seqnum: u64, model: Envelope) -> Result<(), RuntimeError> {
        self.tea.restore(seqnum, model);
        let subs = self.tea.subscriptions(&mut self.session).await?;
        self.effects.set_subscriptions(&subs);
        Ok(())
    }

    /// Runs the step's commands, follows its subscriptions, and adds the events it emitted to
    /// its record.
    fn apply(&mut self, step: Step) -> Json {
        let Step { mut record, commands, subscriptions } = step;
        let events = self.effects.run_commands(&commands, self.session.settings());
        self.effects.set_subscriptions(&subscriptions);
        if !events.is_empty() {
            record["events"] = json!(events);
        }
        record
    }
}

/// Whether `e` is a step's own failure (a trap, a limit, a bad signature found on the way),
/// which the session survives, rather than the host's.
pub fn is_step_failure(e: &RuntimeError) -> bool {
    matches!(e, RuntimeError::Step { .. })
}
