//! How a driver comes to be: around a call the client already started
//! ([`Driver::new`]), or starting a [prepared](crate::Client::prepare_call) call inside itself
//! ([`Driver::start`], and [`DriverBox::start`](super::DriverBox::start) for a boxed one).

use std::sync::Arc;

use smallvec::SmallVec;

use super::sockets::Sockets;
use super::store::StoreIo;
use super::{Driver, Transport};
use crate::call::{CallId, PreparedCall};
use crate::{Call, Config, Request};

/// The one driver literal of both constructors. A macro rather than a function: a function
/// taking the call, or a closure making it, cost a copy of the call (1.5 KiB) per driver.
macro_rules! driver_literal {
    ($call:expr, $listener:expr, $started:expr, $transport:expr, $config:expr) => {
        Driver {
            call: $call,
            transport: $transport,
            sockets: Sockets::new(),
            connecting: SmallVec::new(),
            listener: $listener,
            store: store_for($config),
            clock: Some($started),
            fresh: true,
            bodies: 0,
            settling: false,
        }
    };
}

impl<T: Transport> Driver<T> {
    /// A driver for `call` over `transport`; events go to the listener `config` makes for the
    /// call, if any.
    pub fn new(call: Call, transport: T, config: &Config) -> Driver<T> {
        let listener = listener_for(config, call.id(), call.request());
        // The runtime read the clock to start the call, an instant ago.
        let started = call.latest_time();
        driver_literal!(call, listener, started, transport, config)
    }

    /// A driver that starts a [`prepared`](crate::Client::prepare_call) call over
    /// `transport`: what [`start_call`](crate::Client::start_call) and [`new`](Self::new) do.
    pub fn start(call: PreparedCall, transport: T, config: &Config) -> Driver<T> {
        let mut driver = Driver::prepared(call, transport, config);
        driver.call.begin();
        driver
    }

    /// A driver around the call `call` makes, not yet started. The call is built as the
    /// driver's own field rather than built apart and moved in; inline, so that a driver made
    /// for a box ([`DriverBox::start`](super::DriverBox::start)) is copied only into the box.
    #[inline]
    pub(crate) fn prepared(call: PreparedCall, transport: T, config: &Config) -> Driver<T> {
        let listener = listener_for(config, call.id, &call.request);
        // The runtime read the clock to start the call, an instant ago.
        let started = call.now;
        driver_literal!(Call::prepared(call), listener, started, transport, config)
    }
}

/// The listener `config` makes for call `id`, if any.
fn listener_for(
    config: &Config,
    id: CallId,
    request: &Request,
) -> Option<Arc<dyn crate::EventListener>> {
    config
        .event_listener_factory()
        .map(|factory| factory.create(id, request))
}

/// The disk I/O of the cache, for a client that has one.
fn store_for(config: &Config) -> Option<Box<StoreIo>> {
    config
        .cache()
        .map(|cache| Box::new(StoreIo::new(cache.store().clone())))
}
