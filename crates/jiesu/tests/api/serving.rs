//! Issue 16, the connection edge: a client that never finishes its request head is cut off
//! after the header timeout (with `axum::serve` it was kept forever: 3,000 such connections
//! were accepted and held), a body that stalls is given up with 408, and a shutdown with a
//! stalled upload in flight ends within the grace period (it used to keep the server alive
//! for as long as the client liked). SQLite only: no storage is involved.

use jiesu::clock::ManualClock;
use jiesu::config::Config;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

struct Served {
    addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<()>,
    _dir: tempfile::TempDir,
}

async fn serve(tune: impl FnOnce(&mut Config)) -> Served {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::from_env().expect("config");
    config.addr = "127.0.0.1:0".parse().unwrap();
    config.data_dir = dir.path().to_path_buf();
    config.database_url = None;
    config.admin_password = Some("adminpass1".to_string().into());
    config.sweep_interval = Duration::ZERO;
    config.search_refresh = Duration::ZERO;
    config.webhook_url = None;
    tune(&mut config);
    let clock = ManualClock::new(crate::helpers::start_time());
    let app = jiesu::App::build(config, Arc::new(clock))
        .await
        .expect("app builds");
    let addr = app.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        app.run(async {
            let _ = stopped.await;
        })
        .await
        .expect("server runs");
    });
    Served {
        addr,
        stop: Some(stop),
        server,
        _dir: dir,
    }
}

/// Reads until the server closes the connection (or resets it); the bytes read.
async fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return got,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_with_an_unfinished_request_head_is_closed_after_the_header_timeout() {
    let s = serve(|c| c.header_read_timeout = Duration::from_millis(800)).await;
    let mut slow = TcpStream::connect(s.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: loc")
        .await
        .unwrap();
    let start = Instant::now();
    let closed = tokio::time::timeout(Duration::from_secs(10), read_to_close(&mut slow)).await;
    assert!(
        closed.is_ok(),
        "the connection was still open 10 s after half a header line"
    );
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(500),
        "closed too early: {took:?}"
    );
    assert!(took < Duration::from_secs(5), "closed late: {took:?}");

    // A whole request on another connection is answered as before.
    let mut ok = TcpStream::connect(s.addr).await.unwrap();
    ok.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let answer = String::from_utf8_lossy(&read_to_close(&mut ok).await).into_owned();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_stalls_is_given_up_with_408() {
    let s = serve(|c| c.body_timeout = Duration::from_millis(800)).await;
    let mut slow = TcpStream::connect(s.addr).await.unwrap();
    slow.write_all(
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"username\":",
    )
    .await
    .unwrap();
    let answer = tokio::time::timeout(Duration::from_secs(10), read_to_close(&mut slow))
        .await
        .expect("answered within 10 s");
    let answer = String::from_utf8_lossy(&answer).into_owned();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("body_timeout"), "{answer}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shutdown_with_a_stalled_body_in_flight_ends_within_the_grace_period() {
    let mut s = serve(|c| {
        // the stalled body alone would keep the request open for a minute
        c.body_timeout = Duration::from_secs(60);
        c.request_timeout = Duration::from_secs(60);
        c.shutdown_grace = Duration::from_secs(2);
    })
    .await;
    let mut slow = TcpStream::connect(s.addr).await.unwrap();
    slow.write_all(
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"username\":",
    )
    .await
    .unwrap();
    // an idle keep-alive connection too
    let mut idle = TcpStream::connect(s.addr).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    tokio::time::sleep(Duration::from_millis(200)).await;

    let start = Instant::now();
    let _ = s.stop.take().unwrap().send(());
    tokio::time::timeout(Duration::from_secs(8), &mut s.server)
        .await
        .expect("the server stopped within 8 s of the shutdown signal")
        .expect("the server task ended cleanly");
    let took = start.elapsed();
    assert!(took < Duration::from_secs(5), "stopped late: {took:?}");
    // Both connections are closed; no new one is accepted.
    let _ = tokio::time::timeout(Duration::from_secs(2), read_to_close(&mut slow))
        .await
        .expect("the stalled connection is closed");
    let _ = tokio::time::timeout(Duration::from_secs(2), read_to_close(&mut idle))
        .await
        .expect("the idle connection is closed");
    assert!(TcpStream::connect(s.addr).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_limit_wait_until_one_closes() {
    let s = serve(|c| c.max_connections = 1).await;
    let mut first = TcpStream::connect(s.addr).await.unwrap();
    first
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    let n = first.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // The second connection is queued by the kernel; its request waits for a slot.
    let mut second = TcpStream::connect(s.addr).await.unwrap();
    second
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let early = tokio::time::timeout(Duration::from_millis(700), second.read(&mut buf)).await;
    assert!(early.is_err(), "served over the connection limit");
    drop(first);
    let answer = tokio::time::timeout(Duration::from_secs(5), read_to_close(&mut second))
        .await
        .expect("served once the first connection closed");
    assert!(String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"));
}
