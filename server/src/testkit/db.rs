//! Throwaway databases for tests: a SQLite file in a temporary directory, or a PostgreSQL
//! database created for the test and dropped (connections and all) when the last server
//! using it is gone. `HERALD_TEST_DATABASE=postgres` picks PostgreSQL, on
//! `HERALD_TEST_POSTGRES_URL`'s server (default `postgres://postgres@127.0.0.1:5432/postgres`).

use sqlx::{Connection, Executor, PgConnection};
use std::sync::Arc;
use tempfile::TempDir;

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database for one test (or for the nodes of one cluster test).
pub enum TestDb {
    Sqlite(TempDir),
    Postgres { admin: String, name: String },
}

impl TestDb {
    /// The backend `HERALD_TEST_DATABASE` names (`sqlite`, the default, or `postgres`).
    pub async fn from_env() -> Arc<Self> {
        match std::env::var("HERALD_TEST_DATABASE").as_deref() {
            Ok("postgres") => Self::postgres().await,
            Ok("sqlite") | Err(_) => Self::sqlite(),
            Ok(other) => panic!("HERALD_TEST_DATABASE must be sqlite or postgres, not {other}"),
        }
    }

    /// A SQLite file in a new temporary directory.
    pub fn sqlite() -> Arc<Self> {
        Arc::new(TestDb::Sqlite(tempfile::tempdir().expect("temp dir")))
    }

    /// A new, empty PostgreSQL database.
    pub async fn postgres() -> Arc<Self> {
        let admin =
            std::env::var("HERALD_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.into());
        let name = format!("herald_test_{}", hex::encode(rand::random::<[u8; 6]>()));
        let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
            panic!(
                "PostgreSQL at {admin} is needed for this test (scripts/test.sh starts one): {e}"
            )
        });
        conn.execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create test database");
        Arc::new(TestDb::Postgres { admin, name })
    }

    /// The `DATABASE_URL` of this database.
    pub fn url(&self) -> String {
        match self {
            TestDb::Sqlite(dir) => format!("sqlite://{}", dir.path().join("test.db").display()),
            TestDb::Postgres { admin, name } => {
                let server = admin.rsplit_once('/').map_or(admin.as_str(), |(s, _)| s);
                format!("{server}/{name}")
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let TestDb::Postgres { admin, name } = self else {
            return;
        };
        let (admin, name) = (admin.clone(), name.clone());
        // Drop runs inside the test's runtime, which cannot be blocked on: use a thread
        // with a runtime of its own, and wait for it so no database outlives the run.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let mut conn = PgConnection::connect(&admin).await?;
                conn.execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .map(|_| ())
            })
        })
        .join();
        if let Ok(Err(e)) = dropped {
            eprintln!("could not drop test database: {e}");
        }
    }
}
