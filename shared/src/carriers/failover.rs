//! Failover routing: sends through a primary carrier and, when it keeps failing for reasons that
//! are not the message's, through a secondary, with a circuit breaker deciding which.
//!
//! Closed: every message goes to the primary. A transient or operator failure hands that one
//! message to the secondary at once (no message waits on a dead primary) and counts against
//! the primary; `failure_threshold` such failures in a row, within `window`, open the circuit.
//! Open: messages go straight to the secondary and the primary sees no request at all. After
//! `cool_down`, one message is the trial (half-open): if the primary takes it the circuit closes
//! and traffic returns; if not, the circuit opens for another `cool_down`. A permanent refusal
//! says the message is bad, not the carrier, so it neither trips the breaker nor fails over.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::ports::{Carrier, OutboundSms, SharedClock, SubmitError, Submitted};

/// When the breaker opens and how long it stays open.
#[derive(Debug, Clone, Copy)]
pub struct BreakerPolicy {
    /// Consecutive primary failures (transient or operator) that open the circuit.
    pub failure_threshold: u32,
    /// Failures further apart than this do not add up: the count starts again.
    pub window: Duration,
    /// How long the circuit stays open before one trial request goes to the primary.
    pub cool_down: Duration,
}

impl Default for BreakerPolicy {
    fn default() -> Self {
        BreakerPolicy {
            failure_threshold: 3,
            window: Duration::from_secs(60),
            cool_down: Duration::from_secs(30),
        }
    }
}

/// The breaker's state, as seen from outside (logs, tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Circuit {
    Closed,
    Open,
    HalfOpen,
}

#[derive(Debug, Clone, Copy)]
enum State {
    Closed {
        failures: u32,
        since: Option<DateTime<Utc>>,
    },
    Open {
        until: DateTime<Utc>,
    },
    /// One trial request is with the primary since `started`.
    HalfOpen {
        started: DateTime<Utc>,
    },
}

/// Where one submission goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Primary,
    Trial,
    Secondary,
}

pub struct FailoverCarrier {
    primary: Arc<dyn Carrier>,
    secondary: Arc<dyn Carrier>,
    clock: SharedClock,
    policy: BreakerPolicy,
    window: chrono::Duration,
    cool_down: chrono::Duration,
    state: Mutex<State>,
}

impl FailoverCarrier {
    pub fn new(
        primary: Arc<dyn Carrier>,
        secondary: Arc<dyn Carrier>,
        clock: SharedClock,
        policy: BreakerPolicy,
    ) -> FailoverCarrier {
        let to_chrono =
            |d: Duration| chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        FailoverCarrier {
            primary,
            secondary,
            clock,
            window: to_chrono(policy.window),
            cool_down: to_chrono(policy.cool_down),
            policy,
            state: Mutex::new(State::Closed {
                failures: 0,
                since: None,
            }),
        }
    }

    pub fn circuit(&self) -> Circuit {
        match *self.lock() {
            State::Closed { .. } => Circuit::Closed,
            State::Open { .. } => Circuit::Open,
            State::HalfOpen { .. } => Circuit::HalfOpen,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a few plain values, valid after any panic; keep going with it.
        match self.state.lock() {
            Ok(s) => s,
            Err(p) => p.into_inner(),
        }
    }

    fn route(&self) -> Route {
        let now = self.clock.now();
        let mut state = self.lock();
        match *state {
            State::Closed { .. } => Route::Primary,
            State::Open { until } if now < until => Route::Secondary,
            // A trial that never reported back (its caller was cancelled) is given up after a
            // cool-down, so the circuit cannot hang half-open.
            State::HalfOpen { started } if now < started + self.cool_down => Route::Secondary,
            State::Open { .. } | State::HalfOpen { .. } => {
                *state = State::HalfOpen { started: now };
                tracing::info!(primary = %self.primary.name(), "circuit half-open: one trial request to the primary");
                Route::Trial
            }
        }
    }

    /// The primary answered (it took the message, or refused it for the message's sake).
    fn primary_alive(&self) {
        let mut state = self.lock();
        if !matches!(*state, State::Closed { .. }) {
            tracing::info!(primary = %self.primary.name(), "circuit closed: the primary is back");
        }
        *state = State::Closed {
            failures: 0,
            since: None,
        };
    }

    fn primary_failed(&self, route: Route, error: &SubmitError) {
        let now = self.clock.now();
        let mut state = self.lock();
        let open = match (*state, route) {
            (_, Route::Trial) => true,
            (State::Closed { failures, since }, _) => {
                let (failures, since) = match since {
                    Some(s) if now - s <= self.window => (failures + 1, s),
                    _ => (1, now),
                };
                if failures >= self.policy.failure_threshold.max(1) {
                    true
                } else {
                    *state = State::Closed {
                        failures,
                        since: Some(since),
                    };
                    false
                }
            }
            // Opened meanwhile by another request: nothing to add.
            _ => false,
        };
        if open {
            *state = State::Open {
                until: now + self.cool_down,
            };
            tracing::warn!(
                primary = %self.primary.name(),
                secondary = %self.secondary.name(),
                error = %error,
                cool_down_s = self.policy.cool_down.as_secs(),
                "circuit open: sending through the secondary carrier"
            );
        }
    }
}

#[async_trait]
impl Carrier for FailoverCarrier {
    /// The primary's name: what this carrier mostly is. Which carrier took a message is in
    /// [`Submitted::carrier`].
    fn name(&self) -> &str {
        self.primary.name()
    }

    async fn submit(&self, sms: &OutboundSms<'_>) -> Result<Submitted, SubmitError> {
        let route = self.route();
        if route == Route::Secondary {
            return self.secondary.submit(sms).await;
        }
        let first = match self.primary.submit(sms).await {
            Ok(done) => {
                self.primary_alive();
                return Ok(done);
            }
            Err(refused @ SubmitError::Permanent { .. }) => {
                self.primary_alive();
                return Err(refused);
            }
            Err(e) => e,
        };
        self.primary_failed(route, &first);
        tracing::warn!(
            message_id = %sms.id,
            primary = %self.primary.name(),
            secondary = %self.secondary.name(),
            error = %first,
            "primary carrier failed; handing the message to the secondary"
        );
        match self.secondary.submit(sms).await {
            Ok(done) => Ok(done),
            Err(e @ SubmitError::Permanent { .. }) => Err(e),
            // Both failed: worth another try later if either failure was transient.
            Err(second) => Err(match (&first, &second) {
                (SubmitError::Operator(a), SubmitError::Operator(b)) => {
                    SubmitError::Operator(format!("{a}; then {b}"))
                }
                _ => SubmitError::Transient(format!("{first}; then {second}")),
            }),
        }
    }
}
