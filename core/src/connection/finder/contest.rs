//! The race a batch of routes runs: [`FastFallback`] for several routes, or, for a batch of
//! one, a single attempt with none of its bookkeeping.

use crate::connection::{AttemptId, ConnectAction, FastFallback, Route};
use crate::{Error, Instant};

/// How the routes of one batch are raced.
///
/// Most batches hold one route: an IP literal, a name with one address, a proxy. Fast
/// fallback keeps queues of routes and actions, a list of errors and the outcome for its
/// staggered attempts; a lone attempt needs none of them, and on a new connection per request
/// they were a few percent of the client's work. Both kinds answer the same way: a lone attempt
/// behaves exactly as a fast-fallback race over one route.
#[derive(Debug)]
pub(super) enum Contest {
    Lone(Lone),
    /// Boxed: fast fallback's state is three times a lone attempt's, and rarer.
    Many(Box<FastFallback>),
}

/// A race of one route.
#[derive(Debug)]
pub(super) struct Lone {
    route: Route,
    state: LoneState,
}

#[derive(Debug)]
enum LoneState {
    Unstarted,
    InFlight,
    Connected,
    Failed(Error),
}

impl Contest {
    /// A race over `routes`, with fast fallback unless `sequential`.
    pub(super) fn new(mut routes: Vec<Route>, sequential: bool) -> Contest {
        if routes.len() == 1 {
            if let Some(route) = routes.pop() {
                return Contest::lone(route);
            }
        }
        Contest::Many(Box::new(if sequential {
            FastFallback::sequential(routes)
        } else {
            FastFallback::new(routes)
        }))
    }

    /// A race of the one route there is.
    pub(super) fn lone(route: Route) -> Contest {
        Contest::Lone(Lone {
            route,
            state: LoneState::Unstarted,
        })
    }

    /// See [`FastFallback::poll`].
    pub(super) fn poll(&mut self, now: Instant) -> ConnectAction {
        let lone = match self {
            Contest::Many(race) => return race.poll(now),
            Contest::Lone(lone) => lone,
        };
        let attempt = AttemptId::FIRST;
        match &lone.state {
            LoneState::Unstarted => {
                lone.state = LoneState::InFlight;
                ConnectAction::Connect {
                    attempt,
                    route: lone.route.clone(),
                }
            }
            LoneState::InFlight => ConnectAction::Wait(None),
            LoneState::Connected => ConnectAction::Done {
                attempt,
                route: lone.route.clone(),
            },
            LoneState::Failed(error) => ConnectAction::Failed(error.clone()),
        }
    }

    /// See [`FastFallback::on_connected`].
    pub(super) fn on_connected(&mut self, now: Instant, attempt: AttemptId) {
        match self {
            Contest::Many(race) => race.on_connected(now, attempt),
            Contest::Lone(lone) => {
                if attempt == AttemptId::FIRST && matches!(lone.state, LoneState::InFlight) {
                    lone.state = LoneState::Connected;
                }
            }
        }
    }

    /// See [`FastFallback::on_failed`].
    pub(super) fn on_failed(&mut self, now: Instant, attempt: AttemptId, error: Error) {
        match self {
            Contest::Many(race) => race.on_failed(now, attempt, error),
            Contest::Lone(lone) => {
                if attempt == AttemptId::FIRST && matches!(lone.state, LoneState::InFlight) {
                    lone.state = LoneState::Failed(error);
                }
            }
        }
    }

    /// See [`FastFallback::take_untried`]: a lone attempt leaves nothing untried.
    pub(super) fn take_untried(&mut self) -> Vec<Route> {
        match self {
            Contest::Many(race) => race.take_untried(),
            Contest::Lone(_) => Vec::new(),
        }
    }

    /// The route of `attempt`, while it is in flight.
    pub(super) fn in_flight(&self, attempt: AttemptId) -> Option<&Route> {
        match self {
            Contest::Many(race) => race
                .in_flight()
                .find(|(a, _)| *a == attempt)
                .map(|(_, route)| route),
            Contest::Lone(lone) => (attempt == AttemptId::FIRST
                && matches!(lone.state, LoneState::InFlight))
            .then_some(&lone.route),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::Address;
    use std::time::Duration;

    fn at(ms: u64) -> Instant {
        Instant::from_epoch(Duration::from_millis(ms))
    }

    fn route(ip: &str) -> Route {
        let url = crate::Url::parse("http://example.com/").unwrap();
        Route::new(
            Address::from_url(&url),
            (ip.parse::<core::net::IpAddr>().unwrap(), 80).into(),
        )
    }

    /// The actions a race answers with, as a line, for comparing the two kinds.
    fn show(action: ConnectAction) -> String {
        match action {
            ConnectAction::Connect { attempt, route } => format!("connect {attempt} {route}"),
            ConnectAction::Cancel(attempt) => format!("cancel {attempt}"),
            ConnectAction::Wait(at) => format!("wait {at:?}"),
            ConnectAction::Done { attempt, route } => format!("done {attempt} {route}"),
            ConnectAction::Failed(e) => format!("failed {}", e.message()),
        }
    }

    /// Runs the same script on a lone attempt and on fast fallback over the one route.
    fn both(script: impl Fn(&mut Contest) -> Vec<String>) -> (Vec<String>, Vec<String>) {
        let mut lone = Contest::new(vec![route("192.0.2.1")], false);
        assert!(matches!(lone, Contest::Lone(_)));
        let mut many = Contest::Many(Box::new(FastFallback::new(vec![route("192.0.2.1")])));
        (script(&mut lone), script(&mut many))
    }

    #[test]
    fn a_lone_attempt_that_connects_answers_as_fast_fallback_does() {
        let (lone, many) = both(|race| {
            let mut seen = vec![show(race.poll(at(0))), show(race.poll(at(0)))];
            seen.push(format!("{:?}", race.in_flight(AttemptId::FIRST)));
            race.on_connected(at(5), AttemptId::FIRST);
            seen.push(show(race.poll(at(5))));
            seen.push(show(race.poll(at(6))));
            seen.push(format!("{:?}", race.in_flight(AttemptId::FIRST)));
            seen.push(format!("{:?}", race.take_untried()));
            seen
        });
        assert_eq!(lone, many);
        assert!(
            lone[0].starts_with("connect attempt#1 192.0.2.1:80"),
            "{lone:?}"
        );
        assert!(lone[3].starts_with("done attempt#1"), "{lone:?}");
    }

    #[test]
    fn a_lone_attempt_that_fails_answers_as_fast_fallback_does() {
        let (lone, many) = both(|race| {
            let mut seen = vec![show(race.poll(at(0)))];
            // A report for another attempt changes nothing.
            race.on_failed(
                at(1),
                AttemptId::FIRST.next(),
                Error::connect("stray", None),
            );
            seen.push(show(race.poll(at(1))));
            race.on_failed(at(2), AttemptId::FIRST, Error::connect("refused", None));
            seen.push(show(race.poll(at(2))));
            // Later reports change nothing either.
            race.on_connected(at(3), AttemptId::FIRST);
            seen.push(show(race.poll(at(3))));
            seen.push(format!("{:?}", race.take_untried()));
            seen
        });
        assert_eq!(lone, many);
        assert_eq!(lone[2], "failed refused");
    }
}
