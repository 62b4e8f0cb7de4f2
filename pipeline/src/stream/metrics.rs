//! A Prometheus endpoint for a stream session: `GET /metrics` on the address in
//! `[stream] metrics_address`, in the text exposition format, so that a deployment can scrape
//! throughput, lag and latency rather than read them from logs.
//!
//! It is a few lines of HTTP over a standard listener, not a web server: one request a
//! connection, answered and closed.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use tracing::warn;

use super::StreamReport;

/// What the endpoint shows; written by the session, read by the server.
#[derive(Debug, Default)]
pub struct Metrics {
    received: AtomicU64,
    skipped: AtomicU64,
    dropped: AtomicU64,
    written: AtomicU64,
    changed: AtomicU64,
    unchanged: AtomicU64,
    refused: AtomicU64,
    quarantined: AtomicU64,
    nulled: AtomicU64,
    dead_lettered: AtomicU64,
    batches: AtomicU64,
    files: AtomicU64,
    lag: AtomicI64,
    batch_p99_ms: AtomicU64,
    durable_p50_ms: AtomicU64,
    durable_p99_ms: AtomicU64,
}

impl Metrics {
    /// Copies the session's counts (and `lag`, -1 when not known yet).
    pub fn publish(&self, r: &StreamReport, lag: Option<i64>) {
        self.received.store(r.received, Ordering::Relaxed);
        self.skipped.store(r.skipped, Ordering::Relaxed);
        self.dropped.store(r.dropped_on_revoke + r.dropped_on_hold + r.refetched, Ordering::Relaxed);
        self.written.store(r.written, Ordering::Relaxed);
        self.changed.store(r.versions.changed, Ordering::Relaxed);
        self.unchanged.store(r.versions.unchanged, Ordering::Relaxed);
        self.refused.store(r.versions.refused, Ordering::Relaxed);
        self.quarantined.store(r.quarantined, Ordering::Relaxed);
        self.nulled.store(r.nulled, Ordering::Relaxed);
        self.dead_lettered.store(r.dead_lettered, Ordering::Relaxed);
        self.batches.store(r.batches, Ordering::Relaxed);
        self.files.store(r.files, Ordering::Relaxed);
        self.lag.store(lag.unwrap_or(-1), Ordering::Relaxed);
    }

    /// Copies the latency percentiles (worth doing once a batch, not once a message).
    pub fn publish_latency(&self, r: &StreamReport) {
        self.batch_p99_ms.store(r.batch_latency.percentile(0.99), Ordering::Relaxed);
        self.durable_p50_ms.store(r.durable_latency.percentile(0.5), Ordering::Relaxed);
        self.durable_p99_ms.store(r.durable_latency.percentile(0.99), Ordering::Relaxed);
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let seconds = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64 / 1000.0;
        let mut out = String::new();
        let mut one = |name: &str, kind: &str, help: &str, value: String| {
            out.push_str(&format!("# HELP tellonce_stream_{name} {help}\n# TYPE tellonce_stream_{name} {kind}\n"));
            out.push_str(&format!("tellonce_stream_{name} {value}\n"));
        };
        one("messages_received_total", "counter", "Messages read from Kafka.", get(&self.received).to_string());
        one(
            "messages_skipped_total",
            "counter",
            "Messages below a partition's durable offset, written before and skipped.",
            get(&self.skipped).to_string(),
        );
        one(
            "messages_dropped_total",
            "counter",
            "Messages dropped uncommitted (partition revoked, agreement ended, or past the offset needed): read again later.",
            get(&self.dropped).to_string(),
        );
        one("records_written_total", "counter", "Records written to staging.", get(&self.written).to_string());
        one(
            "records_changed_total",
            "counter",
            "Records written that were newer versions of records held (the versions held moved to history).",
            get(&self.changed).to_string(),
        );
        one(
            "records_unchanged_total",
            "counter",
            "Records held already as they are: not staged again.",
            get(&self.unchanged).to_string(),
        );
        one(
            "records_refused_total",
            "counter",
            "Records refused: erased or withdrawn (a tombstone stands for them).",
            get(&self.refused).to_string(),
        );
        one("records_quarantined_total", "counter", "Records quarantined.", get(&self.quarantined).to_string());
        one(
            "fields_nulled_total",
            "counter",
            "Fields nulled in records written (an invalid or placeholder identifier; named in _dq).",
            get(&self.nulled).to_string(),
        );
        one(
            "records_dead_lettered_total",
            "counter",
            "Quarantined records also sent, sealed, to the dead-letter topic.",
            get(&self.dead_lettered).to_string(),
        );
        one("batches_total", "counter", "Batches made durable and committed.", get(&self.batches).to_string());
        one("files_total", "counter", "Staging and quarantine files written.", get(&self.files).to_string());
        one(
            "consumer_lag_messages",
            "gauge",
            "Messages behind the high watermark over the assigned partitions (-1: not known yet).",
            self.lag.load(Ordering::Relaxed).to_string(),
        );
        one(
            "batch_latency_p99_seconds",
            "gauge",
            "99th percentile from a batch's first message to durable, this session.",
            seconds(&self.batch_p99_ms).to_string(),
        );
        one(
            "produce_to_durable_p50_seconds",
            "gauge",
            "Median from a message's timestamp to durable, this session.",
            seconds(&self.durable_p50_ms).to_string(),
        );
        one(
            "produce_to_durable_p99_seconds",
            "gauge",
            "99th percentile from a message's timestamp to durable, this session.",
            seconds(&self.durable_p99_ms).to_string(),
        );
        out
    }
}

/// Binds the endpoint's address (so that a bad one stops the session at its start).
pub fn bind(address: &str) -> std::io::Result<TcpListener> {
    let listener = TcpListener::bind(address)?;
    // Accepting without blocking lets the server notice the session ending.
    listener.set_nonblocking(true)?;
    Ok(listener)
}

/// Answers requests on `listener` until `stop` is set.
pub fn serve(listener: &TcpListener, metrics: &Metrics, stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((conn, peer)) => {
                if let Err(e) = answer(conn, metrics) {
                    warn!(%peer, "metrics request not answered: {e}");
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => {
                warn!("metrics endpoint: {e}");
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
}

/// Reads one request and answers it: the metrics for `GET /metrics`, 404 for other paths.
fn answer(mut conn: TcpStream, metrics: &Metrics) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(Duration::from_secs(2)))?;
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    // The request line and headers; no body is expected.
    while !request.windows(4).any(|w| w == b"\r\n\r\n") && request.len() < 16 * 1024 {
        let n = conn.read(&mut buf)?;
        if n == 0 {
            break;
        }
        request.extend_from_slice(&buf[..n]);
    }
    let line = String::from_utf8_lossy(&request);
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, kind, body) = if method == "GET" && (path == "/metrics" || path.starts_with("/metrics?")) {
        ("200 OK", "text/plain; version=0.0.4; charset=utf-8", metrics.render())
    } else {
        ("404 Not Found", "text/plain; charset=utf-8", "tellonce serves /metrics only\n".to_owned())
    };
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes())?;
    conn.write_all(body.as_bytes())?;
    conn.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(address: std::net::SocketAddr, path: &str) -> String {
        let mut conn = TcpStream::connect(address).unwrap();
        conn.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes()).unwrap();
        let mut text = String::new();
        conn.read_to_string(&mut text).unwrap();
        text
    }

    #[test]
    fn the_endpoint_serves_the_session_counts_in_prometheus_text() {
        let metrics = Metrics::default();
        let mut report = StreamReport {
            received: 120,
            written: 100,
            quarantined: 7,
            nulled: 4,
            dead_lettered: 5,
            batches: 3,
            ..Default::default()
        };
        report.durable_latency.record_n(1_500, 10);
        metrics.publish(&report, Some(42));
        metrics.publish_latency(&report);
        let listener = bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap();
        let stop = AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| serve(&listener, &metrics, &stop));
            let ok = get(address, "/metrics");
            assert!(ok.starts_with("HTTP/1.1 200 OK\r\n"), "{ok}");
            assert!(ok.contains("\ntellonce_stream_messages_received_total 120\n"), "{ok}");
            assert!(ok.contains("\ntellonce_stream_records_quarantined_total 7\n"), "{ok}");
            assert!(ok.contains("\ntellonce_stream_fields_nulled_total 4\n"), "{ok}");
            assert!(ok.contains("\ntellonce_stream_records_dead_lettered_total 5\n"), "{ok}");
            assert!(ok.contains("\ntellonce_stream_consumer_lag_messages 42\n"), "{ok}");
            assert!(ok.contains("\ntellonce_stream_produce_to_durable_p99_seconds 1.5\n"), "{ok}");
            assert!(ok.contains("# TYPE tellonce_stream_batches_total counter\n"), "{ok}");
            let missing = get(address, "/");
            assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
            stop.store(true, Ordering::Relaxed);
        });
    }
}
