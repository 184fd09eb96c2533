//! Simulated time. It runs at a configurable speed and can be advanced on demand, so TTL expiry,
//! continue-token expiry and scenario schedules can be tested without waiting for real time.

use jiff::{SignedDuration, Timestamp};
use parking_lot::Mutex;
use std::time::Instant;

/// A clock that starts at the real time and then runs `speed` times faster, plus any advances.
#[derive(Debug)]
pub struct SimClock {
    start_real: Instant,
    start_sim: Timestamp,
    speed: f64,
    advanced: Mutex<SignedDuration>,
}

impl SimClock {
    /// A clock starting now, running `speed` times faster than real time (1.0 = real time).
    pub fn new(speed: f64) -> Self {
        Self {
            start_real: Instant::now(),
            start_sim: Timestamp::now(),
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
            advanced: Mutex::new(SignedDuration::ZERO),
        }
    }

    /// The simulated time now.
    pub fn now(&self) -> Timestamp {
        let elapsed = self.start_real.elapsed().as_secs_f64() * self.speed;
        let offset = SignedDuration::from_secs_f64(elapsed) + *self.advanced.lock();
        self.start_sim.checked_add(offset).unwrap_or(Timestamp::MAX)
    }

    /// How many simulated seconds pass per real second.
    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// Jump forward by `seconds` of simulated time (negative values are ignored).
    pub fn advance(&self, seconds: f64) {
        if seconds.is_finite() && seconds > 0.0 {
            *self.advanced.lock() += SignedDuration::from_secs_f64(seconds);
        }
    }
}

/// `2023-10-19T21:49:44Z`, the format of metav1.Time.
pub fn format_time(ts: Timestamp) -> String {
    ts.strftime("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `2023-10-19T21:49:44.123456Z`, the format of metav1.MicroTime.
pub fn format_micro_time(ts: Timestamp) -> String {
    format!(
        "{}.{:06}Z",
        ts.strftime("%Y-%m-%dT%H:%M:%S"),
        ts.subsec_microsecond()
    )
}

/// Kubernetes' short "age" format (`45s`, `5m30s`, `44m`, `3h5m`, `20h`, `3d5h`, `40d`, `2y`).
pub fn human_duration(d: SignedDuration) -> String {
    eventkeeper_cli::human_age(d.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_now_forward() {
        let clock = SimClock::new(1.0);
        let before = clock.now();
        clock.advance(3600.0);
        let after = clock.now();
        assert!(after.duration_since(before) >= SignedDuration::from_secs(3600));
    }

    #[test]
    fn human_durations_match_kubectl() {
        let s = SignedDuration::from_secs;
        assert_eq!(human_duration(s(45)), "45s");
        assert_eq!(human_duration(s(330)), "5m30s");
        assert_eq!(human_duration(s(44 * 60)), "44m");
        assert_eq!(human_duration(s(3 * 3600 + 300)), "3h5m");
        assert_eq!(human_duration(s(20 * 3600)), "20h");
        assert_eq!(human_duration(s(77 * 3600)), "3d5h");
    }

    #[test]
    fn times_format_like_metav1() {
        let ts: Timestamp = "2023-10-19T21:49:44.5Z".parse().unwrap();
        assert_eq!(format_time(ts), "2023-10-19T21:49:44Z");
        assert_eq!(format_micro_time(ts), "2023-10-19T21:49:44.500000Z");
    }
}
