//! A read-only database (issue 15 item 10), on both backends: a SQLite file its reader may not
//! write (owned by root, read by another user; or mode 0444 when the tests do not run as root), and
//! a PostgreSQL session that may not write (`default_transaction_read_only`). Reading commands
//! answer as on a writable database; writing commands fail with one line saying the database is
//! read-only, never a raw SQL error.

use std::path::Path;
use std::process::Output;

use crate::util::{command, ok, talab, text};

/// The uid and gid of `nobody`, the reader when the tests run as root.
const NOBODY: u32 = 65534;

/// How the read-only database is reached: its URL, and whether talab must run as `nobody`.
struct ReadOnly {
    url: String,
    as_nobody: bool,
}

impl ReadOnly {
    /// Makes the test database read-only for the commands that follow.
    fn of(t: &talab_db::testing::TestDb, home: &Path) -> ReadOnly {
        let url = t.url();
        let Some(dir) = t.dir() else {
            let sep = if url.contains('?') { '&' } else { '?' };
            return ReadOnly {
                url: format!("{url}{sep}options[default_transaction_read_only]=on"),
                as_nobody: false,
            };
        };
        let file = dir.join("talab.db");
        assert!(file.is_file(), "{} exists", file.display());
        let root = unsafe { libc::geteuid() } == 0;
        if root {
            // Root writes any file: read as `nobody` a file root owns (0644), in a folder nobody
            // may write to, with a home of nobody's own for talab's config.
            set_mode(&file, 0o644);
            set_mode(dir, 0o755);
            chown(home, NOBODY);
        } else {
            set_mode(&file, 0o444);
        }
        ReadOnly { url, as_nobody: root }
    }

    fn run(&self, home: &Path, args: &[&str]) -> Output {
        let env = [("TALAB_DATABASE_URL", self.url.as_str())];
        if !self.as_nobody {
            return talab(home, args, &env);
        }
        let mut cmd = command(home, args, &env);
        std::os::unix::process::CommandExt::uid(&mut cmd, NOBODY);
        std::os::unix::process::CommandExt::gid(&mut cmd, NOBODY);
        cmd.output().unwrap_or_else(|e| {
            panic!(
                "run {} as nobody ({e}): the test binary's folders must be readable by all",
                env!("CARGO_BIN_EXE_talab")
            )
        })
    }
}

fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .unwrap_or_else(|e| panic!("chmod {mode:o} {}: {e}", path.display()));
}

fn chown(path: &Path, uid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(uid))
        .unwrap_or_else(|e| panic!("chown {} {}: {e}", uid, path.display()));
}

/// Exit 1 with one line that says the database is read-only.
fn refused(out: &Output, what: &str, label: &str) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{label} {what}: {err}");
    assert!(
        err.contains("the database is read-only") && err.contains("reading works"),
        "{label} {what}: {err}"
    );
    assert!(
        !err.contains("error returned from database") && !err.contains("panicked"),
        "{label} {what}: {err}"
    );
}

#[tokio::test]
async fn a_read_only_database_is_read_and_refuses_writes_saying_so() {
    for t in talab_db::testing::backends().await {
        let label = t.label();
        let home = tempfile::tempdir().unwrap();
        let home = home.path();
        let url = t.url();
        let writable = [("TALAB_DATABASE_URL", url.as_str())];
        ok(&talab(
            home,
            &["ingest", "synthetic", "--symbols", "AAA", "--days", "120"],
            &writable,
        ));
        let refresh = [
            "refresh-ema",
            "--symbols",
            "AAA",
            "--no-fetch",
            "--tfs",
            "1D",
            "--periods",
            "10",
        ];
        ok(&talab(home, &refresh, &writable));
        let ema = ["ema", "AAA", "--tf", "1D", "--periods", "10", "--format", "csv"];
        let before = text(&ok(&talab(home, &ema, &writable)).stdout);

        // While this pool is open, the last write stays in the write-ahead log.
        let _: i64 = talab_db::on_pool!(&t.db, pool => {
            talab_db::sqlx::query_scalar("SELECT COUNT(*) FROM talab_migrations").fetch_one(pool).await
        })
        .unwrap();
        let read_only = ReadOnly::of(&t, home);
        if t.dir().is_some() {
            // A write held in the write-ahead log cannot be read by a reader who may not write the
            // folder: that is said, never read around.
            let more = ["ingest", "synthetic", "--symbols", "CCC", "--days", "5"];
            ok(&talab(home, &more, &writable));
            if read_only.as_nobody {
                let out = read_only.run(home, &["assets"]);
                let err = text(&out.stderr);
                assert_eq!(out.status.code(), Some(1), "{label}: {err}");
                assert!(
                    err.contains("write-ahead log") && err.contains("-wal"),
                    "{label}: {err}"
                );
            }
        }
        t.db.close().await;
        // Reading: the same answers as before.
        let assets = read_only.run(home, &["assets"]);
        assert!(text(&ok(&assets).stdout).contains("AAA"), "{label}");
        assert_eq!(text(&ok(&read_only.run(home, &ema)).stdout), before, "{label}");
        ok(&read_only.run(home, &["status"]));

        // Writing: one clear line, exit 1.
        refused(&read_only.run(home, &refresh), "refresh-ema", label);
        let ingest = ["ingest", "synthetic", "--symbols", "BBB", "--days", "10"];
        refused(&read_only.run(home, &ingest), "ingest", label);
    }
}
