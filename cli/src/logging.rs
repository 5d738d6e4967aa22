//! Where morph's logs go: stderr. `-v`/`-q` set the level of the general log (`RUST_LOG`
//! refines it); serve's request log (`morph_runtime::serve::REQUEST_LOG`) is rendered on its own:
//! one line per request, text or (`--json`) one JSON object, none with `-q`.

use std::io::Write;

use morph_runtime::serve::REQUEST_LOG;
use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::{filter_fn, EnvFilter, LevelFilter};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

pub fn init(verbose: u8, quiet: bool, json: bool, ansi: bool) {
    let level = match (quiet, verbose) {
        (true, _) => LevelFilter::ERROR,
        (_, 0) => LevelFilter::WARN,
        (_, 1) => LevelFilter::INFO,
        (_, 2) => LevelFilter::DEBUG,
        _ => LevelFilter::TRACE,
    };
    let not_requests = filter_fn(|meta| meta.target() != REQUEST_LOG);
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .without_time()
        .with_filter(not_requests);
    // EnvFilter compiles its directive grammar (regexes) when it parses: ~40 ms of every
    // command's start. Without RUST_LOG a level is all there is to filter by.
    let fmt = match std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty()).map(EnvFilter::try_new) {
        Some(Ok(directives)) => fmt.with_filter(directives).boxed(),
        _ => fmt.with_filter(level).boxed(),
    };
    // The request log's filter says the most it lets through (the general log's level says its
    // own): `log` records of dependencies below it (Cranelift logs every function it compiles
    // at trace) are then dropped by one comparison in `log`'s macros instead of each being
    // turned into a tracing event and filtered (3 % of a compile).
    let requests = RequestLog { json }.with_filter(
        filter_fn(move |meta| !quiet && meta.target() == REQUEST_LOG).with_max_level_hint(LevelFilter::INFO),
    );
    let _ = tracing_subscriber::registry().with(fmt).with(requests).try_init();
}

/// Renders request events as serve has always printed them.
struct RequestLog {
    json: bool,
}

impl<S: Subscriber> Layer<S> for RequestLog {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut fields = Fields(Map::new());
        event.record(&mut fields);
        let fields = fields.0;
        let error = *event.metadata().level() <= Level::WARN;
        let line = if self.json {
            let mut object = Map::new();
            object.insert("level".into(), Json::from(if error { "error" } else { "info" }));
            object.extend(fields);
            Json::Object(object).to_string()
        } else {
            let text = |k: &str| match fields.get(k) {
                Some(Json::String(s)) => s.clone(),
                Some(other) => other.to_string(),
                None => String::new(),
            };
            // Under `morph up`, the entry that answered comes first.
            let entry = match fields.get("entry") {
                Some(Json::String(e)) => format!("[{e}] "),
                _ => String::new(),
            };
            // A process entry's output: its line as written.
            if fields.contains_key("line") {
                let _ = writeln!(std::io::stderr().lock(), "{entry}{}", text("line"));
                return;
            }
            let head = format!("{entry}{} {}", text("method"), text("path"));
            if error {
                // One line per event: a backtrace's lines are joined.
                let why = text("error");
                format!("error: {head}: {}", why.lines().map(str::trim).collect::<Vec<_>>().join(" | "))
            } else {
                let ms = fields.get("ms").and_then(Json::as_f64).unwrap_or_default();
                format!("{head} {} {ms:.1}ms", text("status"))
            }
        };
        let _ = writeln!(std::io::stderr().lock(), "{line}");
    }
}

/// An event's fields as JSON values.
struct Fields(Map<String, Json>);

impl Visit for Fields {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), Json::from(value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Json::from(value));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Json::from(value));
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Json::from(value));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(field.name().into(), Json::from(format!("{value:?}")));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn dependency_logs_below_the_level_are_dropped_at_their_macro() {
        super::init(0, false, false, false);
        // What `log`'s macros compare against: trace and debug records of Cranelift never
        // reach a subscriber at the default level.
        assert_eq!(tracing::level_filters::LevelFilter::current(), tracing::level_filters::LevelFilter::INFO);
    }
}
