//! The routes that failed recently, to be tried last.

use std::collections::{HashSet, VecDeque};

use crate::connection::Route;

/// Remembers routes that failed to connect, so that the next calls try them last (OkHttp's
/// `RouteDatabase`: a deny list that learns from mistakes). A route leaves the list when a
/// connection over it succeeds.
///
/// One database is shared by every call of a client. It holds at most
/// [`RouteDatabase::CAPACITY`] routes, forgetting the oldest failure first, so that a name
/// resolving to ever-new failing addresses cannot grow it without bound.
///
/// ```
/// use wayfarer_core::{Address, Route, RouteDatabase, Url};
///
/// let address = Address::from_url(&Url::parse("http://example.com/").unwrap());
/// let route = Route::new(address, "192.0.2.1:80".parse().unwrap());
/// let mut db = RouteDatabase::new();
/// db.failed(&route);
/// assert!(db.should_postpone(&route));
/// db.connected(&route);
/// assert!(!db.should_postpone(&route));
/// ```
#[derive(Clone, Debug, Default)]
pub struct RouteDatabase {
    failed: HashSet<Route>,
    /// Failure order, oldest first (for eviction at capacity).
    order: VecDeque<Route>,
}

impl RouteDatabase {
    /// Most failed routes remembered.
    pub const CAPACITY: usize = 1024;

    /// An empty database.
    pub fn new() -> RouteDatabase {
        RouteDatabase::default()
    }

    /// Records a failure to connect over `route`.
    pub fn failed(&mut self, route: &Route) {
        if self.failed.contains(route) {
            return;
        }
        if self.order.len() >= Self::CAPACITY {
            if let Some(oldest) = self.order.pop_front() {
                self.failed.remove(&oldest);
            }
        }
        self.failed.insert(route.clone());
        self.order.push_back(route.clone());
    }

    /// Records a successful connection over `route`: it is no longer postponed.
    pub fn connected(&mut self, route: &Route) {
        if self.failed.remove(route) {
            self.order.retain(|r| r != route);
        }
    }

    /// Whether `route` failed recently and should be tried after the others.
    pub fn should_postpone(&self, route: &Route) -> bool {
        self.failed.contains(route)
    }

    /// The routes that failed, oldest failure first.
    pub fn failed_routes(&self) -> impl Iterator<Item = &Route> {
        self.order.iter()
    }

    /// Number of routes remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// True when no route is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Address;

    fn route(i: u32) -> Route {
        let address = Address::from_url(&url::Url::parse("http://a.test/").unwrap());
        let ip = core::net::Ipv4Addr::from(0x0a00_0000 + i);
        Route::new(address, core::net::SocketAddr::from((ip, 80)))
    }

    #[test]
    fn failures_are_remembered_until_a_connection_succeeds() {
        let mut db = RouteDatabase::new();
        db.failed(&route(1));
        db.failed(&route(2));
        db.failed(&route(1));
        assert_eq!(db.len(), 2);
        assert!(db.should_postpone(&route(1)));
        assert!(!db.should_postpone(&route(3)));
        db.connected(&route(1));
        assert!(!db.should_postpone(&route(1)));
        assert_eq!(db.failed_routes().cloned().collect::<Vec<_>>(), [route(2)]);
    }

    #[test]
    fn oldest_failure_is_forgotten_at_capacity() {
        let mut db = RouteDatabase::new();
        for i in 0..RouteDatabase::CAPACITY as u32 + 1 {
            db.failed(&route(i));
        }
        assert_eq!(db.len(), RouteDatabase::CAPACITY);
        assert!(!db.should_postpone(&route(0)));
        assert!(db.should_postpone(&route(1)));
        assert!(db.should_postpone(&route(RouteDatabase::CAPACITY as u32)));
    }
}
