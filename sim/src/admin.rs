//! The admin API under `/_sim/` (no authentication): observations, status, load generation,
//! faults, the clock, direct Event creation and scenarios.

use crate::app::App;
use crate::faults::FaultRequest;
use crate::generator::GenerateSpec;
use crate::http::{Body, Query, bytes_response, json_response, read_json};
use crate::scenario::Scenario;
use crate::status::ApiError;
use crate::store::Observation;
use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use serde::Serialize;
use serde_json::{Value, json};

/// `GET /_sim/status`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimStatus {
    /// Current resourceVersion.
    pub resource_version: String,
    /// Events stored now.
    pub live_events: usize,
    /// Writes made by the load generator.
    pub generated: u64,
    /// Is the load generator running?
    pub generating: bool,
    /// Leases stored now.
    pub leases: usize,
    /// Observations recorded (and dropped beyond the limit).
    pub observations: usize,
    /// Observations not kept because of the limit.
    pub observations_dropped: u64,
    /// Oldest resourceVersion a watch can start from.
    pub watch_history_floor: String,
    /// Simulated time now.
    pub clock: String,
}

/// The status of a simulator.
pub fn status(app: &App) -> SimStatus {
    let c = app.store.counts();
    SimStatus {
        resource_version: c.resource_version.to_string(),
        live_events: c.live_events,
        generated: app.generator.generated(),
        generating: app.generator.generating(),
        leases: c.leases,
        observations: c.observations,
        observations_dropped: c.observations_dropped,
        watch_history_floor: c.history_floor.to_string(),
        clock: crate::clock::format_micro_time(app.store.clock().now()),
    }
}

/// Observations as JSON lines.
pub fn observation_lines(obs: &[Observation]) -> Vec<u8> {
    let mut out = Vec::with_capacity(obs.len() * 160);
    for o in obs {
        // Serialising plain strings cannot fail.
        let _ = serde_json::to_writer(&mut out, o);
        out.push(b'\n');
    }
    out
}

/// Advances the clock and runs what became due (expiry, scenario steps).
pub fn advance_clock(app: &App, seconds: f64) -> Value {
    app.store.clock().advance(seconds);
    let expired = app.store.expire_due();
    let scenario_writes = app.scenarios.tick();
    json!({
        "now": crate::clock::format_micro_time(app.store.clock().now()),
        "expired": expired,
        "scenarioWrites": scenario_writes,
    })
}

fn parse<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, ApiError> {
    serde_json::from_value(v).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Answers `/_sim/...`.
pub async fn handle(
    app: &App,
    method: Method,
    rest: &[String],
    query: &Query,
    req: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let path: Vec<&str> = rest.iter().map(String::as_str).collect();
    match (method, path.as_slice()) {
        (Method::GET, ["observations"]) => {
            let from = query.get("from").and_then(|s| s.parse().ok()).unwrap_or(0);
            Ok(bytes_response(
                StatusCode::OK,
                Bytes::from(observation_lines(&app.store.observations(from))),
                "application/x-ndjson",
            ))
        }
        (Method::GET, ["status"]) => Ok(json_response(StatusCode::OK, &json!(status(app)))),
        (Method::POST, ["generate"]) => {
            let spec: GenerateSpec = parse(read_json(req).await?)?;
            app.generator.spawn(spec);
            Ok(json_response(
                StatusCode::ACCEPTED,
                &json!({"accepted": true}),
            ))
        }
        (Method::GET, ["faults"]) => Ok(json_response(StatusCode::OK, &json!(app.faults.state()))),
        (Method::POST, ["faults"]) => {
            let f: FaultRequest = parse(read_json(req).await?)?;
            tracing::info!(faults = ?f, "Faults changed");
            Ok(json_response(StatusCode::OK, &json!(app.faults.apply(&f))))
        }
        (Method::POST, ["clock"]) => {
            let body = read_json(req).await?;
            let secs = body
                .get("advanceSeconds")
                .and_then(Value::as_f64)
                .ok_or_else(|| ApiError::bad_request("advanceSeconds (a number) is required"))?;
            Ok(json_response(StatusCode::OK, &advance_clock(app, secs)))
        }
        (Method::POST, ["events"]) => {
            let body = read_json(req).await?;
            let now = app.store.clock().now();
            let key = app.scenarios.create_from_template(&body, now, false)?;
            let o = app
                .store
                .get(crate::resource::Kind::Event, &key.0, &key.1)
                .ok_or_else(ApiError::no_such_path)?;
            Ok(bytes_response(
                StatusCode::CREATED,
                o.json.clone(),
                "application/json",
            ))
        }
        (Method::POST, ["scenarios"]) => {
            let s: Scenario = parse(read_json(req).await?)?;
            s.validate()
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
            app.scenarios.start(s);
            Ok(json_response(
                StatusCode::ACCEPTED,
                &json!({"accepted": true}),
            ))
        }
        (
            _,
            [
                "observations" | "status" | "generate" | "faults" | "clock" | "events"
                | "scenarios",
            ],
        ) => Err(ApiError::method_not_allowed()),
        _ => Err(ApiError::no_such_path()),
    }
}
