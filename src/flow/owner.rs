//! Who runs a run: "host:pid", and whether that process is gone.
//!
//! A refresh writes its run row before it starts and finishes it when it ends; a process killed in
//! between leaves the row `running`. The next flow to start asks whether the owner is still alive:
//! on this host by signalling the pid (`kill(pid, 0)`: no such process means gone); on another host
//! (a shared PostgreSQL) it cannot tell, so such a row is called interrupted only once it is older
//! than any refresh runs ([`ABANDONED_AFTER`]).

use chrono::{DateTime, Duration, Utc};

/// A run still marked running after this long is abandoned, whoever owned it.
pub const ABANDONED_AFTER: Duration = Duration::hours(24);

/// This process, as a run's owner.
pub fn this_process() -> String {
    format!("{}:{}", host(), std::process::id())
}

/// Whether the process that owns a run started at `started_at` has ended without finishing it.
pub fn is_gone(owner: Option<&str>, started_at: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    if now - started_at > ABANDONED_AFTER {
        return true;
    }
    let Some((host_name, pid)) = owner.and_then(|o| o.rsplit_once(':')) else {
        return false;
    };
    match pid.parse::<i32>() {
        Ok(pid) if host_name == host() => !alive(pid),
        _ => false,
    }
}

#[cfg(unix)]
fn alive(pid: i32) -> bool {
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 sends nothing; it only asks whether the process exists.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(not(unix))]
fn alive(_pid: i32) -> bool {
    true
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_dead_child_is_gone() {
        let now = Utc::now();
        assert!(!is_gone(Some(&this_process()), now, now));
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(is_gone(Some(&format!("{}:{pid}", host())), now, now));
    }

    #[test]
    fn another_host_is_gone_only_when_old() {
        let now = Utc::now();
        assert!(!is_gone(Some("elsewhere:1"), now, now));
        assert!(is_gone(Some("elsewhere:1"), now - Duration::hours(25), now));
        assert!(!is_gone(None, now, now));
    }
}
