//! Serving HTTP connections: the accept loop and each connection's lifetime, with hyper's
//! HTTP/1 server driven directly (axum's `serve` exposes none of this):
//!
//! - **Header timeout.** A connection must have sent a request's complete headers within
//!   `header_timeout` of being accepted, or it is closed: half a request line cannot hold
//!   a connection forever.
//! - **Idle timeout.** After a response, a kept-alive connection must have sent its next
//!   request's complete headers within `idle_timeout`.
//! - **Connection cap.** At most `max_connections` sockets are open at once, counting
//!   upgraded (live) sockets for as long as they live; a connection beyond the cap is closed
//!   at once, with a best-effort 503, and the server keeps serving the others.
//! - **Shutdown deadline.** On shutdown the listener closes, idle connections close, busy
//!   ones finish their response, live sockets get 1001 from the hub; whatever is still open
//!   after `shutdown_grace` — a client that never reads, a request that never ends — is cut
//!   (every read and write on it fails), so `serve` returns within the deadline.
//!
//! Accepted sockets keep `TCP_NODELAY` (live frames are small and latency is the point) and
//! requests carry `ConnectInfo<SocketAddr>` (the login throttle counts by peer address).
//! The REST request timeout is a layer of the `/api` router (`api::router`), not here.

use crate::config::HttpConfig;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::Router;
use hyper::body::Incoming;
use hyper::rt::{Sleep, Timer};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};
use tower::Service;

/// After the shutdown deadline has cut the connections left, how long to wait for them to
/// let go of their sockets (they fail on their next read or write, so this is short).
const CUT_WAIT: Duration = Duration::from_secs(1);
/// Pause after an accept error that is not about one connection (out of file descriptors,
/// say): retrying at once would spin.
const ACCEPT_BACKOFF: Duration = Duration::from_secs(1);
/// At most one warning per this interval about connections refused at the cap.
const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Serves `router` on `listener` until `shutdown` resolves, then shuts down as the module
/// docs say and returns once every connection is closed or cut.
pub(crate) async fn serve(
    listener: TcpListener,
    router: Router,
    config: HttpConfig,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    // A semaphore bounds permits; a configured cap above that (or above what `acquire_many`
    // counts) is unreachable anyway.
    let cap = config.max_connections.clamp(1, u32::MAX as usize);
    let slots = Arc::new(Semaphore::new(cap));
    let stop = CancellationToken::new();
    let cut = CancellationToken::new();
    let mut connections = JoinSet::new();
    let mut refusals = Refusals::default();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => accepted,
            // Reap finished connection tasks so the set does not grow without bound.
            Some(done) = connections.join_next(), if !connections.is_empty() => {
                if let Err(e) = done {
                    if e.is_panic() {
                        tracing::error!(error = %e, "a connection task panicked");
                    }
                }
                continue;
            }
        };
        let (tcp, peer) = match accepted {
            Ok(accepted) => accepted,
            // The peer gave up between SYN and accept: nothing to do.
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                tracing::error!(error = %e, "accept failed; retrying in {ACCEPT_BACKOFF:?}");
                tokio::select! {
                    () = &mut shutdown => break,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        let Ok(slot) = Arc::clone(&slots).try_acquire_owned() else {
            refuse(tcp);
            refusals.count(cap);
            continue;
        };
        // Live frames are small and latency is the point: no Nagle delay on any socket.
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let io = Conn::new(tcp, slot, &cut);
        connections.spawn(connection(
            io,
            peer,
            router.clone(),
            config.clone(),
            stop.clone(),
        ));
    }

    // Shutdown. No new connections: the OS refuses them once the listener is gone.
    drop(listener);
    // Idle connections close now, busy ones after their response (`connection`).
    stop.cancel();
    // Every slot back means every socket closed, upgraded ones included.
    let all = u32::try_from(cap).unwrap_or(u32::MAX);
    if tokio::time::timeout(config.shutdown_grace, slots.acquire_many(all))
        .await
        .is_err()
    {
        let open = cap.saturating_sub(slots.available_permits());
        tracing::warn!(
            open,
            "connections still open {:?} after shutdown began; cutting them",
            config.shutdown_grace
        );
        cut.cancel();
        connections.abort_all();
        if tokio::time::timeout(CUT_WAIT, slots.acquire_many(all))
            .await
            .is_err()
        {
            let open = cap.saturating_sub(slots.available_permits());
            tracing::warn!(open, "connections still open after being cut");
        }
    }
    connections.shutdown().await;
    Ok(())
}

/// Serves one connection until it closes, is upgraded (the socket then lives on in the live
/// channel, still holding its slot), or shutdown closes it.
async fn connection(
    io: Conn,
    peer: SocketAddr,
    router: Router,
    config: HttpConfig,
    stop: CancellationToken,
) {
    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        // A Router is always ready (its `poll_ready` returns Ready at once), so it is
        // called without polling readiness first, as axum's own `serve` does.
        let mut router = router.clone();
        router.call(req.map(Body::new))
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(HeadTimer::new(config.header_timeout, config.idle_timeout))
        .header_read_timeout(config.header_timeout)
        .keep_alive(true);
    let conn = builder
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let result = tokio::select! {
        result = conn.as_mut() => result,
        () = stop.cancelled() => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    // Timeouts, resets and malformed requests are the client's doing: not worth more.
    if let Err(e) = result {
        tracing::debug!(error = %e, %peer, "connection ended with an error");
    }
}

/// The answer a connection beyond the cap gets before it is closed.
static AT_CAPACITY: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let body = serde_json::to_string(&herald_protocol::error::HttpError::new(
        503,
        "too many connections; try again shortly".to_owned(),
    ))
    .unwrap_or_default();
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\nretry-after: 1\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
});

/// Closes a connection beyond the cap. The 503 is written only if the socket takes it at
/// once: refusing must cost nothing, or a flood of connections would cost the server time.
fn refuse(tcp: TcpStream) {
    let _ = tcp.try_write(&AT_CAPACITY);
    drop(tcp);
}

/// Counts refusals at the cap and warns about them at most once per interval.
#[derive(Default)]
struct Refusals {
    since_warning: u64,
    warned: Option<Instant>,
}

impl Refusals {
    fn count(&mut self, cap: usize) {
        self.since_warning += 1;
        if self
            .warned
            .is_none_or(|at| at.elapsed() >= REFUSAL_LOG_INTERVAL)
        {
            tracing::warn!(
                refused = self.since_warning,
                cap,
                "connection cap reached (HERALD_MAX_CONNECTIONS); refusing connections"
            );
            self.since_warning = 0;
            self.warned = Some(Instant::now());
        }
    }
}

/// Errors of one connection that died before it was accepted (as hyper and axum class them).
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// hyper's header-read timer, one per connection, which picks the timeout for each wait.
///
/// hyper's HTTP/1 server uses its timer for one thing: it starts it whenever it waits for a
/// request head — on a new connection, and again after each response — and closes the
/// connection if the head is not complete when it fires. The first wait is the header
/// timeout; every later one is the keep-alive idle timeout. (hyper asks for "now +
/// `header_read_timeout`"; the deadline given here replaces it.)
struct HeadTimer {
    header: Duration,
    idle: Duration,
    first_wait_done: AtomicBool,
}

impl HeadTimer {
    fn new(header: Duration, idle: Duration) -> Self {
        Self {
            header,
            idle,
            first_wait_done: AtomicBool::new(false),
        }
    }

    fn next_wait(&self) -> Duration {
        if self.first_wait_done.swap(true, Ordering::Relaxed) {
            self.idle
        } else {
            self.header
        }
    }
}

impl Timer for HeadTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        TokioTimer::new().sleep(duration)
    }

    fn sleep_until(&self, _hyper_deadline: Instant) -> Pin<Box<dyn Sleep>> {
        TokioTimer::new().sleep(self.next_wait())
    }

    fn reset(&self, sleep: &mut Pin<Box<dyn Sleep>>, _hyper_deadline: Instant) {
        TokioTimer::new().reset(sleep, Instant::now() + self.next_wait());
    }
}

/// An accepted socket. It holds a slot of the connection cap for as long as it lives —
/// through an upgrade too, since hyper hands this very value to the WebSocket — and once
/// `cut` is cancelled every read or write on it that would wait fails instead, and whoever
/// already waits is woken to fail, so that its owner (hyper, or a live connection's reader
/// and writer) lets go of it.
///
/// The socket is always tried first: a read or write that can proceed pays nothing for
/// this. Only one that would wait looks at `cut` (and registers to be woken by it), and
/// `cut` is this connection's own child of the server's token, so no two connections
/// contend for it.
struct Conn {
    tcp: TcpStream,
    _slot: OwnedSemaphorePermit,
    // One per direction: a live socket's reader and writer wait on it from two tasks.
    cut_read: Pin<Box<WaitForCancellationFutureOwned>>,
    cut_write: Pin<Box<WaitForCancellationFutureOwned>>,
}

impl Conn {
    fn new(tcp: TcpStream, slot: OwnedSemaphorePermit, cut: &CancellationToken) -> Self {
        let cut = cut.child_token();
        Self {
            tcp,
            _slot: slot,
            cut_read: Box::pin(cut.clone().cancelled_owned()),
            cut_write: Box::pin(cut.cancelled_owned()),
        }
    }
}

/// `poll` as it is, unless it would wait and `cut` has come (then an error).
fn unless_cut<T>(
    poll: Poll<io::Result<T>>,
    cut: &mut Pin<Box<WaitForCancellationFutureOwned>>,
    cx: &mut Context<'_>,
) -> Poll<io::Result<T>> {
    match poll {
        Poll::Pending if cut.as_mut().poll(cx).is_ready() => Poll::Ready(Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "cut at the shutdown deadline",
        ))),
        poll => poll,
    }
}

impl AsyncRead for Conn {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.tcp).poll_read(cx, buf);
        unless_cut(poll, &mut this.cut_read, cx)
    }
}

impl AsyncWrite for Conn {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.tcp).poll_write(cx, buf);
        unless_cut(poll, &mut this.cut_write, cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.tcp).poll_write_vectored(cx, bufs);
        unless_cut(poll, &mut this.cut_write, cx)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.tcp).poll_flush(cx);
        unless_cut(poll, &mut this.cut_write, cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let poll = Pin::new(&mut this.tcp).poll_shutdown(cx);
        unless_cut(poll, &mut this.cut_write, cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_head_wait_is_the_header_timeout_and_later_ones_the_idle_timeout() {
        let timer = HeadTimer::new(Duration::from_secs(10), Duration::from_secs(60));
        assert_eq!(timer.next_wait(), Duration::from_secs(10));
        assert_eq!(timer.next_wait(), Duration::from_secs(60));
        assert_eq!(timer.next_wait(), Duration::from_secs(60));
    }

    #[tokio::test]
    async fn a_cut_fails_a_waiting_read_and_the_slot_is_freed_with_the_socket() {
        use tokio::io::AsyncReadExt;
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let _client = TcpStream::connect(addr).await.expect("connect");
        let (tcp, _) = listener.accept().await.expect("accept");
        let slots = Arc::new(Semaphore::new(1));
        let slot = Arc::clone(&slots).try_acquire_owned().expect("a free slot");
        let cut = CancellationToken::new();
        let mut conn = Conn::new(tcp, slot, &cut);
        assert_eq!(slots.available_permits(), 0);
        let reading = tokio::spawn(async move {
            let mut buf = [0u8; 8];
            let read = conn.read(&mut buf).await;
            (read, conn)
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!reading.is_finished(), "nothing to read yet");
        cut.cancel();
        let (read, conn) = tokio::time::timeout(Duration::from_secs(1), reading)
            .await
            .expect("the waiting read was woken")
            .expect("no panic");
        assert_eq!(
            read.expect_err("a cut read fails").kind(),
            io::ErrorKind::ConnectionAborted
        );
        drop(conn);
        assert_eq!(slots.available_permits(), 1);
    }

    #[test]
    fn the_refusal_is_a_complete_http_error_response() {
        let text = String::from_utf8(AT_CAPACITY.clone()).expect("ASCII");
        let (head, body) = text.split_once("\r\n\r\n").expect("head and body");
        assert!(head.starts_with("HTTP/1.1 503 "), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let json: serde_json::Value = serde_json::from_str(body).expect("JSON body");
        assert_eq!(json["statusCode"], 503);
    }
}
