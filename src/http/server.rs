//! The accept loop, on hyper directly. `axum::serve` has no header read timeout and no bound
//! on connections: a client that sent half a request head and then nothing kept its
//! connection, and a file descriptor, for as long as it liked, and enough of them left none
//! for the database or `/healthz`.
//!
//! - Each socket holds a slot of its listener's semaphore from accept until it closes. The
//!   slot lives inside the I/O object, so an upgraded WebSocket, which hyper hands over and
//!   forgets, keeps its slot until it closes. With every slot taken, no more connections are
//!   accepted: they wait in the kernel's backlog and cost the process no descriptor.
//! - hyper's header read timeout closes silent, half-sent and idle kept-alive connections
//!   alike: `Conn::poll_read_head` (hyper `proto/h1/conn.rs`) arms it whenever the
//!   connection waits for a request head, from the accept on, and `State::idle` makes it
//!   wait for the next head as soon as a response is written, so the time between requests
//!   on a kept-alive connection counts too. On expiry hyper closes the connection without
//!   an answer.
//! - A request body must arrive within the body timeout of its head; later, the answer is
//!   408 and the connection closes (hyper does not reuse one whose body was not read).
//! - HTTP/1.1 only, as under `axum::serve` (axum's and hyper's `http2` features were never
//!   on). hyper-util's `auto::Builder`, which adds HTTP/2, first reads the client's first
//!   bytes to tell the protocols apart, with no timeout (`ReadVersion`): a connection that
//!   sent nothing would stay open again.

use std::convert::Infallible;
use std::error::Error as StdError;
use std::io;
use std::net::SocketAddr;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response, StatusCode};
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, watch};
use tokio::time::{Instant, Sleep};
use tower::ServiceExt;

/// How long to stop accepting after an error that is not one connection's (such as no
/// descriptor left), so the loop does not spin.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);
/// How often, at most, "every connection slot is taken" is logged.
const FULL_WARNING_INTERVAL: Duration = Duration::from_secs(60);

/// One listening socket and what it serves.
pub struct Listener {
    pub tcp: TcpListener,
    pub router: Router,
    /// How many connections it keeps open at once.
    pub max_connections: usize,
    /// For the logs: `API`, `metrics`.
    pub name: &'static str,
}

/// How long clients may take to send a request.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// The head, from the accept or the end of the previous response.
    pub header: Duration,
    /// The body, from the end of the head.
    pub body: Duration,
}

/// Listeners accepting connections, until [`Server::drain`].
pub struct Server {
    /// Sends once, to stop accepting and close connections after their current request;
    /// every accept loop and connection holds a receiver until it ends.
    stop: watch::Sender<()>,
}

impl Server {
    /// Starts accepting on each listener, in the background.
    pub fn start(listeners: Vec<Listener>, timeouts: Timeouts) -> Server {
        let (stop, _) = watch::channel(());
        let mut http = http1::Builder::new();
        http.timer(TokioTimer::new())
            .header_read_timeout(timeouts.header);
        let http = Arc::new(http);
        for listener in listeners {
            tokio::spawn(accept(
                listener,
                http.clone(),
                timeouts.body,
                stop.subscribe(),
            ));
        }
        Server { stop }
    }

    /// Stops accepting; each open connection finishes the request it is on and closes (an
    /// idle one at once). Completes when all have closed. WebSockets are not waited for:
    /// hyper has handed them over.
    pub async fn drain(self) {
        let _ = self.stop.send(());
        self.stop.closed().await;
    }
}

/// Accepts while a slot is free, until `stop`.
async fn accept(
    listener: Listener,
    http: Arc<http1::Builder>,
    body_timeout: Duration,
    mut stop: watch::Receiver<()>,
) {
    let slots = Arc::new(Semaphore::new(listener.max_connections));
    let mut warned: Option<Instant> = None;
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                if warned.is_none_or(|at| at.elapsed() >= FULL_WARNING_INTERVAL) {
                    tracing::warn!(
                        "{}: all {} connections are open; new ones wait until one closes \
                         (KITH_MAX_CONNECTIONS)",
                        listener.name,
                        listener.max_connections
                    );
                    warned = Some(Instant::now());
                }
                tokio::select! {
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => return, // closed: never, the semaphore is ours
                    },
                    _ = stop.changed() => return,
                }
            }
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.tcp.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    if !is_connection_error(&err) {
                        tracing::error!("{}: accepting a connection: {err}", listener.name);
                        tokio::select! {
                            () = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => {},
                            _ = stop.changed() => return,
                        }
                    }
                    continue;
                }
            },
            _ = stop.changed() => return,
        };
        let io = TokioIo::new(Slotted {
            stream,
            _slot: slot,
        });
        tokio::spawn(serve_connection(
            io,
            peer,
            listener.router.clone(),
            http.clone(),
            body_timeout,
            stop.clone(),
        ));
    }
}

/// One client's error, which says nothing about the listener.
fn is_connection_error(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// Serves requests on one connection until it closes, or until `stop` and the end of the
/// request in progress.
async fn serve_connection(
    io: TokioIo<Slotted>,
    peer: SocketAddr,
    router: Router,
    http: Arc<http1::Builder>,
    body_timeout: Duration,
    mut stop: watch::Receiver<()>,
) {
    let service = hyper::service::service_fn(move |request| {
        handle(router.clone(), peer, body_timeout, request)
    });
    let mut connection = pin!(http.serve_connection(io, service).with_upgrades());
    let mut stopping = false;
    loop {
        tokio::select! {
            result = connection.as_mut() => {
                if let Err(err) = result {
                    tracing::debug!(%peer, "connection closed: {err}");
                }
                return;
            }
            _ = stop.changed(), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Hands one request to the router, with the peer's address (`ConnectInfo`) and its body
/// under the deadline.
async fn handle(
    router: Router,
    peer: SocketAddr,
    body_timeout: Duration,
    request: Request<Incoming>,
) -> Result<Response<Body>, Infallible> {
    let timed_out = Arc::new(AtomicBool::new(false));
    let mut request = request.map(|body| {
        Body::new(Deadline {
            body,
            timeout: body_timeout,
            deadline: Instant::now() + body_timeout,
            sleep: None,
            timed_out: timed_out.clone(),
        })
    });
    request.extensions_mut().insert(ConnectInfo(peer));
    let mut response = router.oneshot(request).await?;
    if timed_out.load(Ordering::Relaxed) {
        // The handler met the body's error and answered as for any unreadable body;
        // the status says what happened.
        *response.status_mut() = StatusCode::REQUEST_TIMEOUT;
    }
    Ok(response)
}

/// A socket and the connection slot it holds, given back when the socket closes.
struct Slotted {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
}

impl AsyncRead for Slotted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Slotted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The body of a request took longer than the body timeout to arrive.
#[derive(Debug, thiserror::Error)]
#[error("the request body did not arrive within {0:?}")]
struct BodyTimedOut(Duration);

/// A request body that fails once `deadline` passes while it waits for the client. A
/// deadline for the whole body, not for each read: a client that trickles a byte at a
/// time would pass a per-read timeout for ever.
struct Deadline {
    body: Incoming,
    timeout: Duration,
    deadline: Instant,
    /// Made at the first wait, so a body read at once costs no timer.
    sleep: Option<Pin<Box<Sleep>>>,
    timed_out: Arc<AtomicBool>,
}

impl http_body::Body for Deadline {
    type Data = <Incoming as http_body::Body>::Data;
    type Error = Box<dyn StdError + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        if let Poll::Ready(frame) = Pin::new(&mut this.body).poll_frame(cx) {
            return Poll::Ready(frame.map(|frame| frame.map_err(Into::into)));
        }
        let deadline = this.deadline;
        let sleep = this
            .sleep
            .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        ready!(sleep.as_mut().poll(cx));
        this.timed_out.store(true, Ordering::Relaxed);
        Poll::Ready(Some(Err(BodyTimedOut(this.timeout).into())))
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
