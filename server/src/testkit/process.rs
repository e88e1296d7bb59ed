//! A server as a separate process (an app's real binary), for what only a process can show:
//! being killed without a chance to say goodbye.

use super::{Endpoint, TestDb};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server process may take to start answering.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A server process, killed when dropped.
pub struct ServerProcess {
    pub endpoint: Endpoint,
    child: Child,
}

impl ServerProcess {
    /// Starts the binary at `exe` (`env!("CARGO_BIN_EXE_…")`) on `db` with extra environment
    /// `env`; returns once it answers.
    pub async fn start(exe: &str, db: &TestDb, env: &[(&str, String)]) -> Self {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            probe.local_addr().expect("addr").port()
        };
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(exe)
            .env("DATABASE_URL", db.url())
            .env("HERALD_ADDR", &addr)
            .env("LEPTOS_OUTPUT_NAME", "herald")
            .env("RUST_LOG", "warn")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .spawn()
            .expect("server binary starts");
        let started = Instant::now();
        while tokio::net::TcpStream::connect(&addr).await.is_err() {
            assert!(
                started.elapsed() < START_TIMEOUT,
                "server process did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self {
            endpoint: Endpoint {
                base: format!("http://{addr}"),
            },
            child,
        }
    }

    /// SIGKILL: no graceful close, no goodbye to the cluster.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl std::ops::Deref for ServerProcess {
    type Target = Endpoint;

    fn deref(&self) -> &Endpoint {
        &self.endpoint
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
