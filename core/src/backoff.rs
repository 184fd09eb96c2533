//! The one backoff of the project: how long to wait before trying a failed call again.
//!
//! Every retry (a page of a list, a watch that broke, a CloudWatch call) waits with these
//! policies, built on the `backon` crate (which kube's own runtime uses). Delays grow
//! exponentially and carry random jitter, so replicas and Lambda retries do not hit a throttled
//! server in step.

use std::future::Future;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder, Retryable};

/// How a failing call is tried again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The first delay (jitter adds up to as much again).
    first: Duration,
    /// Delays stop growing here (before jitter).
    max: Duration,
    /// Retries after the first attempt; `None`: never give up.
    retries: Option<usize>,
}

impl RetryPolicy {
    /// One API or AWS request: 200 ms doubling, at most 5 retries (6 attempts, about 6–12 s in
    /// all).
    pub const REQUEST: Self = Self {
        first: Duration::from_millis(200),
        max: Duration::from_secs(10),
        retries: Some(5),
    };

    /// A stream that reconnects for as long as the process runs (a watch): 100 ms doubling up
    /// to 15 s; with jitter each wait is between the delay and twice it (100 ms–30 s).
    pub const RECONNECT: Self = Self {
        first: Duration::from_millis(100),
        max: Duration::from_secs(15),
        retries: None,
    };

    /// The same policy starting from another first delay (tests use a millisecond).
    pub const fn with_first_delay(self, first: Duration) -> Self {
        Self { first, ..self }
    }

    /// The same policy with another number of retries.
    pub const fn with_retries(self, retries: usize) -> Self {
        Self {
            retries: Some(retries),
            ..self
        }
    }

    /// Attempts a call makes at most (`None`: unbounded).
    pub fn max_attempts(&self) -> Option<usize> {
        self.retries.map(|r| r + 1)
    }

    fn builder(&self) -> ExponentialBuilder {
        let builder = ExponentialBuilder::new()
            .with_jitter()
            .with_factor(2.0)
            .with_min_delay(self.first)
            .with_max_delay(self.max);
        match self.retries {
            Some(retries) => builder.with_max_times(retries),
            None => builder.without_max_times(),
        }
    }

    /// The delays of this policy, one per failure; [`Backoff::reset`] after a success.
    pub fn backoff(&self) -> Backoff {
        Backoff {
            policy: *self,
            delays: self.builder().build(),
        }
    }

    /// Runs `call` until it succeeds, fails with an error `transient` rejects, or the retries
    /// are used up (the last error is returned). `notify` sees each error retried and the wait
    /// before the next attempt (for a log line or a metric).
    pub async fn retry<T, E, Fut, Call>(
        &self,
        call: Call,
        transient: impl FnMut(&E) -> bool,
        notify: impl FnMut(&E, Duration),
    ) -> Result<T, E>
    where
        Call: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
    {
        call.retry(self.builder())
            .sleep(tokio::time::sleep)
            .when(transient)
            .notify(notify)
            .await
    }
}

/// Successive delays of a [`RetryPolicy`].
#[derive(Debug)]
pub struct Backoff {
    policy: RetryPolicy,
    delays: <ExponentialBuilder as BackoffBuilder>::Backoff,
}

impl Backoff {
    /// The wait before the next attempt; `None` when the retries are used up.
    pub fn next_delay(&mut self) -> Option<Duration> {
        self.delays.next()
    }

    /// Starts over from the first delay (after a success).
    pub fn reset(&mut self) {
        self.delays = self.policy.builder().build();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnect_delays_grow_to_thirty_seconds_with_jitter_and_reset() {
        let mut backoff = RetryPolicy::RECONNECT.backoff();
        let first = backoff.next_delay().unwrap();
        assert!(
            (Duration::from_millis(100)..=Duration::from_millis(200)).contains(&first),
            "{first:?}"
        );
        let mut last = first;
        for _ in 0..40 {
            last = backoff.next_delay().expect("never gives up");
        }
        assert!(
            (Duration::from_secs(15)..=Duration::from_secs(30)).contains(&last),
            "{last:?}"
        );
        backoff.reset();
        assert!(backoff.next_delay().unwrap() <= Duration::from_millis(200));
    }

    #[test]
    fn request_retries_are_bounded() {
        let mut backoff = RetryPolicy::REQUEST.backoff();
        let delays: Vec<_> = std::iter::from_fn(|| backoff.next_delay()).collect();
        assert_eq!(delays.len(), 5);
        assert_eq!(RetryPolicy::REQUEST.max_attempts(), Some(6));
        assert!(
            delays[0] >= Duration::from_millis(200) && delays[4] >= Duration::from_millis(3200)
        );
    }

    #[tokio::test]
    async fn retry_stops_at_errors_that_are_not_transient() {
        let policy = RetryPolicy::REQUEST.with_first_delay(Duration::from_millis(1));
        let mut calls = 0;
        let result: Result<(), &str> = policy
            .retry(
                || {
                    calls += 1;
                    let error = if calls < 3 { "busy" } else { "refused" };
                    async move { Err(error) }
                },
                |e| *e == "busy",
                |_, _| {},
            )
            .await;
        assert_eq!(result, Err("refused"));
        assert_eq!(calls, 3);

        let mut calls = 0;
        let result: Result<(), &str> = policy
            .retry(
                || {
                    calls += 1;
                    async { Err("busy") }
                },
                |_| true,
                |_, _| {},
            )
            .await;
        assert_eq!(result, Err("busy"));
        assert_eq!(calls, 6, "one attempt and five retries");
    }
}
