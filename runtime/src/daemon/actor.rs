//! One extension session of the daemon: a task owning its instance, model and env vars, taking
//! asks from a bounded mailbox one at a time (so a full mailbox holds the client back), running
//! the effects the extension asked for, and putting itself away (a snapshot, no instance) when
//! idle. A trap or a limit in a step costs that step only: a fresh instance goes on from the
//! last good model, as in `morph ext session`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{json, Value as Json};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::rpc::{Notifier, Reply, RpcError};
use super::snapshot::{self, SavedModel, Snapshot};
use super::{Daemon, Slot};
use crate::ext::hosted::{is_step_failure, Hosted};
use crate::ext::tea::{show_envelope, Tea};
use crate::ext::{DesignTime, Envelope};
use crate::host::morphir::ExtSettings;
use crate::RuntimeError;

/// Asks waiting for a session at most; more hold their sender back.
pub(super) const MAILBOX: usize = 64;
/// How often a session whose model changed writes its snapshot under `--state`.
const FLUSH: Duration = Duration::from_millis(500);

/// What a message param is: JSON (sent as its text for a JSON session; a string as its bytes
/// for other content types), or bytes given as base64.
pub(super) enum Message {
    Json(Json),
    Bytes(Vec<u8>),
}

pub(super) enum Ask {
    Send { msg: Message, reply: Reply },
    Capabilities { reply: Reply },
    Call { which: DesignTime, input: Envelope, reply: Reply },
    Snapshot { reply: Reply },
    Close { reply: Reply },
}

impl Ask {
    pub fn reply(self) -> Reply {
        match self {
            Ask::Send { reply, .. }
            | Ask::Capabilities { reply }
            | Ask::Call { reply, .. }
            | Ask::Snapshot { reply }
            | Ask::Close { reply } => reply,
        }
    }
}

/// An ask, and where the session's notifications go from now on (the asking connection).
pub(super) struct Asked {
    pub ask: Ask,
    pub notify: Option<Notifier>,
}

/// How a session begins: opened (init runs) or taken up again from its snapshot.
pub(super) enum Begin {
    Open { flags: Vec<u8>, env_vars: Vec<(String, String)>, reply: Reply },
    Resume(Snapshot),
}

/// What a session is, whichever way it began.
pub(super) struct Identity {
    pub id: String,
    pub source: String,
    pub content_type: String,
}

/// Starts the session's task; its mailbox is the sender returned.
pub(super) fn spawn(d: Arc<Daemon>, who: Identity, begin: Begin, notify: Option<Notifier>) -> mpsc::Sender<Asked> {
    let (tx, rx) = mpsc::channel(MAILBOX);
    tokio::spawn(live(d, who, begin, rx, notify));
    tx
}

struct Actor {
    d: Arc<Daemon>,
    who: Identity,
    hosted: Hosted,
    notify: Option<Notifier>,
    /// The model changed since the snapshot was last written.
    dirty: bool,
}

async fn live(d: Arc<Daemon>, who: Identity, begin: Begin, mut rx: mpsc::Receiver<Asked>, notify: Option<Notifier>) {
    let resumed = matches!(begin, Begin::Resume(_));
    let mut actor = match start(&d, &who, begin).await {
        Ok(actor) => actor,
        Err((e, reply, snapshot)) => {
            let error = RpcError::of_session(&who.id, &e);
            tracing::warn!("daemon: session {}: {e}", who.id);
            if let Some(reply) = reply {
                reply.send(Err(error.clone()));
            }
            // An open that failed leaves nothing; a resume that failed keeps its snapshot.
            d.settle(&who.id, snapshot.map(Slot::Suspended));
            rx.close();
            while let Some(asked) = rx.recv().await {
                asked.ask.reply().send(Err(error.clone()));
            }
            return;
        }
    };
    actor.notify = notify;
    if resumed {
        tracing::info!("daemon: session {} resumed at seqnum {}", who.id, actor.hosted.tea.seqnum);
    }
    let mut stopping = d.stopping.clone();
    let mut idle_at = Instant::now() + d.idle;
    let mut flush = tokio::time::interval(FLUSH);
    loop {
        let can_evict = !actor.hosted.effects.subscribed() && actor.hosted.effects.idle();
        tokio::select! {
            biased;
            _ = stopping.changed() => {
                actor.save();
                actor.hosted.effects.stop();
                rx.close();
                while let Some(asked) = rx.recv().await {
                    asked.ask.reply().send(Err(RpcError::stopping()));
                }
                return;
            }
            asked = rx.recv() => {
                let Some(asked) = asked else { return };
                if asked.notify.is_some() {
                    actor.notify = asked.notify;
                }
                if !actor.handle(asked.ask).await {
                    return;
                }
                idle_at = Instant::now() + d.idle;
            }
            delivery = actor.hosted.effects.next() => {
                match actor.hosted.deliver(delivery).await {
                    Ok(record) => {
                        actor.dirty = true;
                        actor.notify_step(record);
                    }
                    Err(e) => return actor.end(&e),
                }
                idle_at = Instant::now() + d.idle;
            }
            _ = flush.tick() => actor.save_if_dirty(),
            _ = tokio::time::sleep_until(idle_at), if can_evict => {
                if actor.evict(&mut rx) {
                    return;
                }
                idle_at = Instant::now() + d.idle;
            }
        }
    }
}

type StartFailure = (RuntimeError, Option<Reply>, Option<Snapshot>);

/// The session's instance: loaded, compiled (or taken from the daemon's cache), then `init`
/// run (an open, whose reply gets the step) or its model restored (a resume).
async fn start(d: &Arc<Daemon>, who: &Identity, begin: Begin) -> Result<Actor, StartFailure> {
    let (reply, snapshot, env_vars) = match begin {
        Begin::Open { flags, env_vars, reply } => (Some((reply, flags)), None, env_vars),
        Begin::Resume(s) => {
            let vars = s.env_vars.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
            (None, Some(s), vars)
        }
    };
    let fail = |e, reply: Option<(Reply, Vec<u8>)>, s: &Option<Snapshot>| (e, reply.map(|r| r.0), s.clone());
    let mut settings = ExtSettings { log_level: d.log_level, log_prefix: Some(who.id.clone()), ..Default::default() };
    for (name, typed) in &env_vars {
        if let Err(why) = settings.set_typed(name, typed) {
            return Err(fail(RuntimeError::Internal(why), reply, &snapshot));
        }
    }
    let prepared = match d.prepared(&who.source).await {
        Ok(p) => p,
        Err(e) => return Err(fail(e, reply, &snapshot)),
    };
    let session = match d.sandbox.extension(&prepared, settings).await {
        Ok(s) => s,
        Err(e) => return Err(fail(e, reply, &snapshot)),
    };
    let tea = Tea::new(Some(who.id.clone()), who.content_type.clone());
    let mut actor = Actor {
        d: d.clone(),
        who: Identity { id: who.id.clone(), source: who.source.clone(), content_type: who.content_type.clone() },
        hosted: Hosted::new(session, tea),
        notify: None,
        dirty: false,
    };
    match (reply, &snapshot) {
        (Some((reply, flags)), _) => match actor.hosted.init(flags).await {
            Ok(record) => {
                actor.dirty = true;
                let events = record.get("events").cloned();
                reply.send(Ok(with_session(&who.id, record)));
                actor.notify_events(events);
            }
            Err(e) => return Err((e, Some(reply), None)),
        },
        (None, Some(s)) => {
            let model = match s.model.envelope(&s.session_id, s.seqnum) {
                Ok(m) => m,
                Err(why) => return Err((RuntimeError::Internal(why), None, snapshot.clone())),
            };
            if let Err(e) = actor.hosted.resume(s.seqnum, model).await {
                return Err((e, None, snapshot.clone()));
            }
        }
        (None, None) => unreachable!("a session begins by an open or a resume"),
    }
    Ok(actor)
}

fn with_session(id: &str, mut record: Json) -> Json {
    record["session"] = json!(id);
    record
}

impl Actor {
    /// Handles one ask; false when the session ended.
    async fn handle(&mut self, ask: Ask) -> bool {
        match ask {
            Ask::Send { msg, reply } => {
                let bytes = match msg {
                    Message::Bytes(b) => b,
                    Message::Json(Json::String(s)) if !crate::ext::tea::is_json(&self.who.content_type) => {
                        s.into_bytes()
                    }
                    Message::Json(v) => serde_json::to_vec(&v).unwrap_or_default(),
                };
                match self.hosted.send(bytes).await {
                    Ok(record) => {
                        self.dirty = true;
                        let events = record.get("events").cloned();
                        reply.send(Ok(with_session(&self.who.id, record)));
                        self.notify_events(events);
                    }
                    // The last good model stays; a fresh instance took over.
                    Err(e) if is_step_failure(&e) => reply.send(Err(RpcError::of_session(&self.who.id, &e))),
                    Err(e) => {
                        reply.send(Err(RpcError::of_session(&self.who.id, &e)));
                        self.end(&e);
                        return false;
                    }
                }
            }
            Ask::Capabilities { reply } => {
                let r = self.hosted.session.capabilities().await;
                self.answer_design_time(r, "get-capabilities", reply).await;
            }
            Ask::Call { which, input, reply } => {
                let r = self.hosted.session.design_time(which, &input).await;
                self.answer_design_time(r, which.function(), reply).await;
            }
            Ask::Snapshot { reply } => reply.send(Ok(serde_json::to_value(self.snapshot()).unwrap_or_default())),
            Ask::Close { reply } => {
                let snapshot = self.snapshot();
                self.hosted.effects.stop();
                if let Some(state) = &self.d.state {
                    snapshot::remove(state, &self.who.id);
                }
                self.d.settle(&self.who.id, None);
                reply.send(Ok(json!({ "session": self.who.id, "closed": true, "snapshot": snapshot })));
                return false;
            }
        }
        true
    }

    /// The answer of a call that is not a TEA step (capabilities, design-time); a failed one
    /// gets a fresh instance, as a step does.
    async fn answer_design_time(&mut self, r: Result<Envelope, RuntimeError>, function: &str, reply: Reply) {
        match r {
            Ok(e) => reply.send(Ok(show_envelope(&e))),
            Err(e) => {
                let e = crate::ext::tea::step_error(function, self.hosted.tea.seqnum, e);
                reply.send(Err(RpcError::of_session(&self.who.id, &e)));
                if is_step_failure(&e) {
                    if let Err(e) = self.hosted.session.recover().await {
                        tracing::warn!("daemon: session {}: {e}", self.who.id);
                    }
                }
            }
        }
    }

    fn snapshot(&self) -> Snapshot {
        let model = self
            .hosted
            .tea
            .model()
            .map(SavedModel::of)
            .unwrap_or(SavedModel { content_type: self.who.content_type.clone(), content_base64: String::new() });
        Snapshot {
            session_id: self.who.id.clone(),
            source: self.who.source.clone(),
            content_type: self.who.content_type.clone(),
            seqnum: self.hosted.tea.seqnum,
            model,
            env_vars: self.hosted.session.settings().vars_typed(),
        }
    }

    fn save(&mut self) {
        if let Some(state) = &self.d.state {
            if let Err(e) = snapshot::save(state, &self.snapshot()) {
                tracing::warn!("daemon: cannot save session {} under {}: {e}", self.who.id, state.display());
            }
        }
        self.dirty = false;
    }

    fn save_if_dirty(&mut self) {
        if self.dirty {
            self.save();
        }
    }

    /// Puts the session away when nothing is asked of it: its snapshot takes the instance's
    /// place. False when an ask came in first (the session goes on).
    fn evict(&mut self, rx: &mut mpsc::Receiver<Asked>) -> bool {
        if !rx.is_empty() {
            return false;
        }
        let snapshot = self.snapshot();
        self.save();
        self.d.settle(&self.who.id, Some(Slot::Suspended(snapshot)));
        rx.close();
        // An ask sent before the slot changed goes to the session taken up again.
        while let Ok(asked) = rx.try_recv() {
            let d = self.d.clone();
            let id = self.who.id.clone();
            tokio::spawn(async move { d.ask(&id, asked).await });
        }
        tracing::info!("daemon: session {} idle for {:?}; evicted, its snapshot kept", self.who.id, self.d.idle);
        true
    }

    /// The session cannot go on (no fresh instance could be made): it is closed, its last
    /// snapshot kept.
    fn end(&mut self, e: &RuntimeError) {
        tracing::warn!("daemon: session {} ended: {e}", self.who.id);
        let snapshot = self.snapshot();
        self.save();
        self.d.settle(&self.who.id, Some(Slot::Suspended(snapshot)));
    }

    fn notify_step(&self, record: Json) {
        let events = record.get("events").cloned();
        if let Some(n) = &self.notify {
            n.notify("ext.step", with_session(&self.who.id, record));
        }
        self.notify_events(events);
    }

    fn notify_events(&self, events: Option<Json>) {
        let (Some(n), Some(Json::Array(events))) = (&self.notify, events) else { return };
        for event in events {
            n.notify("ext.event", json!({ "session": self.who.id, "event": event }));
        }
    }
}
