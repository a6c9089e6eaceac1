//! The local stack's files hold secrets (`secrets.json`) and patients' numbers and texts (the
//! SQLite database): they are the owner's alone from the first byte.

#[cfg(unix)]
#[tokio::test]
async fn secrets_and_the_database_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;

    use crate::helpers::{Stack, on_aws};

    if on_aws() {
        return; // no local database there; secrets.json is checked on the embedded run
    }
    let stack = Stack::start();
    stack.send_one("+4917612345678", "Hallo").await;
    let dir = stack.data_dir();
    for name in ["secrets.json", "praxis.sqlite3", "praxis.sqlite3-wal"] {
        let mode = std::fs::metadata(dir.join(name))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o077, 0, "{name} is open to others: {mode:o}");
    }
    let mode = std::fs::metadata(&dir)
        .expect("data dir")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o077,
        0,
        "the data directory is open to others: {mode:o}"
    );
}
