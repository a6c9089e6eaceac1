//! The store conformance suite against the embedded backend (a real SQLite file).

mod conformance;

use praxis_shared::adapters::embedded::SqliteStore;
use praxis_shared::ports::Store;

async fn fresh() -> (tempfile::TempDir, Box<dyn Store>) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("store.sqlite3")).expect("open store");
    (dir, Box::new(store))
}

/// Keeps the temporary directory alive as long as the store.
struct Fresh(tempfile::TempDir, Box<dyn Store>);

impl Fresh {
    fn as_ref(&self) -> &dyn Store {
        let _ = &self.0;
        self.1.as_ref()
    }
}

conformance_suite!({
    let (dir, store) = fresh().await;
    Fresh(dir, store)
});

/// The portal's accounts on the same kind of SQLite store.
struct FreshAccounts(tempfile::TempDir, SqliteStore);

impl FreshAccounts {
    fn as_ref(&self) -> &dyn praxis_shared::ports::Accounts {
        let _ = &self.0;
        &self.1
    }
}

accounts_suite!({
    let dir = tempfile::tempdir().expect("tempdir");
    let store = SqliteStore::open(&dir.path().join("store.sqlite3")).expect("open store");
    FreshAccounts(dir, store)
});
