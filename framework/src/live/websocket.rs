//! The browser WebSocket live provider: dials `/api/live` on the page's own origin,
//! reconnects with exponential backoff and jitter, goes `Offline` while the browser is
//! offline and redials as soon as it is back, and resumes every subscription from its
//! last cursor (the protocol logic lives in [`LiveClient`]).

use super::client::{LiveClient, Transport};
use super::event::ConnectionState;
use send_wrapper::SendWrapper;
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsCast;
use web_sys::{CloseEvent, MessageEvent, WebSocket};

/// The close code of a connection whose session ended (like a 401: do not reconnect).
pub const CLOSE_SESSION_ENDED: u16 = 4401;

/// First reconnect delay; doubles per failed attempt up to [`BACKOFF_MAX`].
const BACKOFF_START: Duration = Duration::from_millis(500);
const BACKOFF_MAX: Duration = Duration::from_secs(15);

struct Socket {
    ws: Option<WebSocket>,
    attempt: u32,
    url: String,
    /// Dialled at least once (the first subscription dials; until then nothing connects).
    started: bool,
}

/// Sends frames on the current socket, if it is open; dials on first use.
struct WsTransport {
    socket: SendWrapper<Rc<RefCell<Socket>>>,
    client: std::sync::OnceLock<std::sync::Weak<LiveClient>>,
}

impl Transport for WsTransport {
    fn send(&self, frame: String) -> bool {
        let socket = self.socket.borrow();
        match &socket.ws {
            Some(ws) if ws.ready_state() == WebSocket::OPEN => ws.send_with_str(&frame).is_ok(),
            _ => false,
        }
    }

    fn wake(&self) {
        if std::mem::replace(&mut self.socket.borrow_mut().started, true) {
            return;
        }
        if let Some(client) = self.client.get().and_then(std::sync::Weak::upgrade) {
            dial(&client, &self.socket);
        }
    }
}

/// The live URL for the page's origin (`ws://host/api/live` or `wss://…`).
pub fn default_url() -> String {
    let location = web_sys::window().map(|w| w.location());
    let (protocol, host) = location
        .map(|l| {
            (
                l.protocol().unwrap_or_default(),
                l.host().unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    let scheme = if protocol == "https:" { "wss" } else { "ws" };
    format!("{scheme}://{host}/api/live")
}

/// A [`LiveClient`] for `url` that dials on its first subscription and then stays connected.
///
/// ```no_run
/// let live = herald_framework::live::websocket::connect(herald_framework::live::websocket::default_url());
/// ```
pub fn connect(url: String) -> Arc<LiveClient> {
    let socket = Rc::new(RefCell::new(Socket {
        ws: None,
        attempt: 0,
        url,
        started: false,
    }));
    let transport = Arc::new(WsTransport {
        socket: SendWrapper::new(socket.clone()),
        client: std::sync::OnceLock::new(),
    });
    let client = Arc::new(
        LiveClient::new(super::random_origin(), transport.clone())
            .with_retry(crate::runtime::spawner(), crate::runtime::sleeper()),
    );
    let _ = transport.client.set(Arc::downgrade(&client));
    watch_online(&client, &socket);
    client
}

fn online() -> bool {
    web_sys::window().is_none_or(|w| w.navigator().on_line())
}

fn dial(client: &Arc<LiveClient>, socket: &Rc<RefCell<Socket>>) {
    if !online() {
        client.on_close(ConnectionState::Offline);
        return;
    }
    let url = socket.borrow().url.clone();
    let Ok(ws) = WebSocket::new(&url) else {
        schedule_retry(client, socket);
        return;
    };
    if client.connection_state() != ConnectionState::Reconnecting {
        client.set_state(ConnectionState::Connecting);
    }
    let c = client.clone();
    let s = socket.clone();
    let on_open = Closure::<dyn FnMut()>::new(move || {
        s.borrow_mut().attempt = 0;
        c.on_open();
    });
    let c = client.clone();
    let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        if let Some(text) = e.data().as_string() {
            c.on_frame(&text);
        }
    });
    let c = client.clone();
    let s = socket.clone();
    let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
        s.borrow_mut().ws = None;
        // The session behind the socket ended (logout, expiry): redialling cannot help.
        if e.code() == CLOSE_SESSION_ENDED {
            c.on_close(ConnectionState::Offline);
            return;
        }
        schedule_retry(&c, &s);
    });
    ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
    ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
    ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
    // The socket owns its handlers for its whole life; they are few and reconnects rare.
    on_open.forget();
    on_message.forget();
    on_close.forget();
    socket.borrow_mut().ws = Some(ws);
}

fn schedule_retry(client: &Arc<LiveClient>, socket: &Rc<RefCell<Socket>>) {
    if !online() {
        client.on_close(ConnectionState::Offline);
        return;
    }
    client.on_close(ConnectionState::Reconnecting);
    let attempt = {
        let mut s = socket.borrow_mut();
        s.attempt = s.attempt.saturating_add(1);
        s.attempt
    };
    let base = BACKOFF_START
        .saturating_mul(1 << attempt.min(5))
        .min(BACKOFF_MAX);
    // Full jitter in [base/2, base): reconnecting clients do not stampede the server.
    let jitter = 0.5 + js_sys::Math::random() / 2.0;
    let delay = base.mul_f64(jitter);
    let (c, s) = (
        SendWrapper::new(client.clone()),
        SendWrapper::new(socket.clone()),
    );
    leptos::prelude::set_timeout(
        move || {
            if s.borrow().ws.is_none() {
                dial(&c, &s);
            }
        },
        delay,
    );
}

/// Offline: say so at once and drop the socket; online again: redial now.
fn watch_online(client: &Arc<LiveClient>, socket: &Rc<RefCell<Socket>>) {
    let Some(window) = web_sys::window() else {
        return;
    };
    let (c, s) = (client.clone(), socket.clone());
    let on_offline = Closure::<dyn FnMut()>::new(move || {
        if let Some(ws) = s.borrow_mut().ws.take() {
            ws.set_onclose(None);
            let _ = ws.close();
        }
        c.on_close(ConnectionState::Offline);
    });
    let (c, s) = (client.clone(), socket.clone());
    let on_online = Closure::<dyn FnMut()>::new(move || {
        s.borrow_mut().attempt = 0;
        if s.borrow().started && s.borrow().ws.is_none() {
            c.set_state(ConnectionState::Reconnecting);
            dial(&c, &s);
        }
    });
    let _ = window.add_event_listener_with_callback("offline", on_offline.as_ref().unchecked_ref());
    let _ = window.add_event_listener_with_callback("online", on_online.as_ref().unchecked_ref());
    on_offline.forget();
    on_online.forget();
}
